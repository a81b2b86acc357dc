import http from 'node:http';
import https from 'node:https';

/** An answer larger than the caller allows: the request is cut off, not read to its end. */
export class ResponseTooLarge extends Error {
  override name = 'ResponseTooLarge';
  constructor(maxBytes: number) {
    super(`answer larger than ${maxBytes} bytes`);
  }
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** The body is refused (ResponseTooLarge) past this many bytes. */
  maxBytes: number;
  agent?: http.Agent;
  /** TLS settings for https:// (CA, client certificate, server name). */
  tls?: https.RequestOptions;
  /** Called once the connection is established (at once for a reused keep-alive socket). */
  connected?: () => void;
}

/**
 * GET a URL over HTTP or HTTPS, the body capped in size and the whole exchange bound to the signal.
 * The one way the agent fetches from another server outside a client library: peers and the API
 * server's health endpoints.
 */
export function httpGet(url: string | URL, opts: HttpGetOptions): Promise<{ status: number; body: string }> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const get = target.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(target, { ...opts.tls, agent: opts.agent ?? opts.tls?.agent, headers: opts.headers, signal: opts.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) {
          req.destroy(new ResponseTooLarge(opts.maxBytes));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const { connected } = opts;
    if (connected) req.once('socket', (sock) => (sock.connecting ? sock.once('connect', connected) : connected()));
  });
}
