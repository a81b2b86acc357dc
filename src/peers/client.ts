import http from 'node:http';
import { abortable } from '../abortable.ts';
import { httpGet, ResponseTooLarge } from '../http-get.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { FailureKind } from '../status/cluster-types.ts';
import type { WireSchema } from './wire.ts';

/** One HTTP exchange with a peer; swapped for a TLS one (or a test double) without touching callers. */
export interface PeerTransport {
  /** `connected` is called once a new connection to the peer is up (never for a reused one). */
  get(url: string, opts: { headers: Record<string, string>; signal: AbortSignal; maxBytes: number; connected?: () => void; responded?: () => void }): Promise<{ status: number; body: string }>;
  close?(): void;
}

/** A failure to talk to a peer, with a short kind for the reachability verdict. */
export class PeerError extends Error {
  override name = 'PeerError';
  /** refused: the host answered but no agent listens; timeout/unreachable: the path is broken; bad: the answer was unusable. */
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/**
 * HTTP with keep-alive; one small pool so pings reuse connections. With `tls`, the same
 * addresses are dialled over TLS (https://) through the agent the function gives, so a TLS
 * agent can be rebuilt when its certificates rotate.
 */
export function httpTransport(opts: { agent?: http.Agent | (() => http.Agent); tls?: boolean } = {}): PeerTransport {
  const given = opts.agent ?? new http.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 2, timeout: 30_000 });
  const agent = typeof given === 'function' ? given : () => given;
  return {
    get: (url, { headers, signal, maxBytes, connected, responded }) => httpGet(opts.tls ? url.replace(/^http:/, 'https:') : url, { agent: agent(), headers, signal, maxBytes, connected, responded }),
    close: () => agent().destroy(),
  };
}

function classify(err: unknown, timeoutMs: number, signal: AbortSignal | undefined): PeerError {
  if (err instanceof PeerError) return err;
  if (err instanceof ResponseTooLarge) return new PeerError('bad', err.message, { cause: err });
  if (signal?.aborted) return new PeerError('timeout', 'aborted', { cause: err });
  const e = err as NodeJS.ErrnoException;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return new PeerError('timeout', `timeout after ${timeoutMs} ms`, { cause: err });
  switch (e.code) {
    case 'ECONNREFUSED':
      return new PeerError('refused', 'connection refused', { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return new PeerError('unreachable', `${e.code.toLowerCase()}: no route`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new PeerError('unreachable', 'connection reset', { cause: err });
    default:
      return new PeerError('unreachable', e.message || String(err), { cause: err });
  }
}

export interface PeerClientOptions {
  transport: PeerTransport;
  /** The shared token, sent as a bearer token when set. */
  token?: string;
  maxBytes: number;
  /** Drives the per-request timeout; injected so tests control it. */
  clock?: Clock;
}

/** Talks to other agents: GET a path, bounded in time and size, and check the answer's shape. */
export class PeerClient {
  readonly #opts: PeerClientOptions;

  constructor(opts: PeerClientOptions) {
    this.#opts = opts;
  }

  async get<T>(base: string, path: string, schema: WireSchema<T>, opts: { timeoutMs: number; signal?: AbortSignal; connected?: () => void; responded?: () => void }): Promise<T> {
    const clock = this.#opts.clock ?? systemClock;
    const timeout = new AbortController();
    const timer = clock.setTimeout(() => timeout.abort(new DOMException(`timeout after ${opts.timeoutMs} ms`, 'TimeoutError')), opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#opts.token) headers.authorization = `Bearer ${this.#opts.token}`;
    let res;
    try {
      // raced with the signal: a transport that ignores aborts (a wedged socket) cannot hold us
      res = await abortable(this.#opts.transport.get(`${base}${path}`, { headers, signal, maxBytes: this.#opts.maxBytes, connected: opts.connected, responded: opts.responded }), signal);
    } catch (err) {
      throw classify(err, opts.timeoutMs, opts.signal);
    } finally {
      clock.clearTimeout(timer);
    }
    if (res.status !== 200) throw new PeerError('http', `HTTP ${res.status}${res.status === 401 ? ' (token refused)' : ''}`);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch (err) {
      throw new PeerError('bad', 'answer is not JSON', { cause: err });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const iss = parsed.error.issues[0]!;
      throw new PeerError('bad', `malformed answer: ${iss.path.map(String).join('.') || '(top)'}: ${iss.message}`);
    }
    return parsed.data;
  }

  close(): void {
    this.#opts.transport.close?.();
  }
}

/** http://ip:port, with brackets for IPv6. */
export function baseUrl(ip: string, port: number): string {
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}
