import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Responder {
  node: string;
  port: number;
  /** Requests this responder received, by path. */
  hits: string[];
}

/**
 * Many lightweight stand-in agents in one process: one HTTP server per simulated node on
 * 127.0.0.1, all sharing a handler. `answer` decides what each one says.
 */
export async function startResponders(names: readonly string[], answer: (node: string, req: http.IncomingMessage, res: http.ServerResponse) => void = defaultAnswer): Promise<{ responders: Map<string, Responder>; close(): Promise<void> }> {
  const servers: http.Server[] = [];
  const responders = new Map<string, Responder>();
  for (const node of names) {
    const r: Responder = { node, port: 0, hits: [] };
    const server = http.createServer((req, res) => {
      r.hits.push(req.url ?? '');
      answer(node, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    r.port = (server.address() as AddressInfo).port;
    servers.push(server);
    responders.set(node, r);
  }
  return {
    responders,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

export function defaultAnswer(node: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = req.url?.startsWith('/api/v1/ping')
    ? { node, time: Date.now() }
    : req.url?.startsWith('/api/v1/status/local')
      ? { node, verdict: 'ok', time: new Date().toISOString(), probes: [], peers: [] }
      : req.url?.startsWith('/api/v1/history/local')
        ? { node, events: [], next: null }
        : undefined;
  if (!body) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
