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
  /**
   * Called once a new connection is established. Not for a reused keep-alive socket: that it was up
   * once says nothing about whether the path still carries traffic.
   */
  connected?: () => void;
  /** Called once the response's status line has arrived, before its body: the server is answering. */
  responded?: () => void;
}

/**
 * GET a URL over HTTP or HTTPS, the body capped in size and the whole exchange bound to the signal.
 * The one way the agent fetches from another server outside a client library: peers and the API
 * server's health endpoints.
 */
export function httpGet(url: string | URL, opts: HttpGetOptions): Promise<{ status: number; body: string }> {
  return getOnce(typeof url === 'string' ? new URL(url) : url, opts, true);
}

/** The server closed a kept-alive connection as the request went out on it. */
const staleSocket = (err: unknown) => ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '');

function getOnce(target: URL, opts: HttpGetOptions, mayRetry: boolean): Promise<{ status: number; body: string }> {
  const get = target.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    let reused = false;
    let answered = false;
    // the retry takes a connection of its own (agent: false), not another idle one from the pool
    const agent = mayRetry ? (opts.agent ?? opts.tls?.agent) : false;
    const req = get(target, { ...opts.tls, agent, headers: opts.headers, signal: opts.signal }, (res) => {
      answered = true;
      opts.responded?.();
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
    req.on('error', (err) => {
      // A reused keep-alive socket that the server had closed (its process died or restarted) says
      // nothing about the server now: a GET is safe to repeat, so ask once more on a new connection,
      // whose answer (refused, say) is the real one.
      if (mayRetry && reused && !answered && !opts.signal.aborted && staleSocket(err)) getOnce(target, opts, false).then(resolve, reject);
      else reject(err);
    });
    req.once('socket', (sock) => {
      reused = !sock.connecting;
      if (opts.connected && sock.connecting) sock.once('connect', opts.connected);
    });
  });
}
