import express, { type ErrorRequestHandler, type Request, type Response, type NextFunction } from 'express';
import type { Registry } from 'prom-client';
import type { LocalHistoryPage } from '../history/api-types.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import type { LocalStatus } from '../status/local.ts';
import { BadRequest, parseHistoryQuery } from './params.ts';
import { statusPageRouter } from './status-page.ts';

export interface AppOptions {
  node: string;
  registry: Registry;
  status: LocalStatus;
  history: HistoryStore;
  logger: Logger;
  now: () => number;
  /** False while starting and shutting down: /readyz answers 503. */
  ready: () => boolean;
  /** Middleware every request passes first: limits and authentication. */
  guards?: express.RequestHandler[];
  /** Routers contributed by other parts (the peer API), mounted before the 404 handler. */
  routers?: express.Router[];
  /** Guards the peer endpoints (ping, status, history, local and cluster) when a token is configured. */
  peerAuth?: express.RequestHandler;
  /** The local status as served to peers (with the peer observations); default: the probes only. */
  localStatus?: () => object;
}

const PEER_PATHS = ['/api/v1/ping', '/api/v1/status', '/api/v1/history'];

export function createApp(opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  for (const g of opts.guards ?? []) app.use(g);

  // Scrapes that arrive while one is being serialised share its result: the exposition is the
  // same, and concurrent scrapers cost one serialisation instead of one each.
  let inFlight: Promise<string> | undefined;
  app.get('/metrics', async (_req, res) => {
    inFlight ??= opts.registry.metrics().finally(() => (inFlight = undefined));
    const body = await inFlight;
    res.type(opts.registry.contentType).send(body);
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const ready = opts.ready();
    res
      .status(ready ? 200 : 503)
      .type('text/plain')
      .send(ready ? 'ready\n' : 'not ready\n');
  });
  if (opts.peerAuth) app.use(PEER_PATHS, opts.peerAuth);
  app.use(statusPageRouter({ node: opts.node }));
  app.get('/api/v1/status/local', (_req, res) => {
    res.json(opts.localStatus ? opts.localStatus() : opts.status.snapshot());
  });
  app.get('/api/v1/history/local', (req, res) => {
    const q = parseHistoryQuery(req.query, opts.now());
    const page = opts.history.query(q);
    res.json({ node: opts.node, events: page.events, next: page.next === null ? null : String(page.next) } satisfies LocalHistoryPage);
  });
  for (const r of opts.routers ?? []) app.use(r);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path.slice(0, 100)}` });
  });
  const onError: ErrorRequestHandler = (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    if (err instanceof BadRequest) {
      res.status(400).json({ error: err.message });
      return;
    }
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: e.type === 'entity.too.large' ? 'request body too large' : (e.message ?? 'bad request') });
      return;
    }
    opts.logger.error({ err, path: req.path }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error; see the agent log' });
  };
  app.use(onError);
  return app;
}
