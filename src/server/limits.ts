import type { RequestHandler } from 'express';

/** Limits that keep slow, hostile or simply too many clients from exhausting the agent. */
export interface ServerLimits {
  /** Open connections at once; more are closed as they arrive. */
  maxConnections: number;
  /** Requests being answered at once; more get 503 with Retry-After. */
  maxConcurrentRequests: number;
  /** Request bodies larger than this get 413. */
  maxRequestBodyBytes: number;
  /** Request line plus headers; more gets 431. */
  maxHeaderBytes: number;
  /** Milliseconds a client may take to send its headers (and, over TLS, to complete the handshake). */
  headerTimeout: number;
  /** Milliseconds a client may take to send a whole request. */
  requestTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  idleTimeout: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 512,
  maxConcurrentRequests: 128,
  maxRequestBodyBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  headerTimeout: 10_000,
  requestTimeout: 30_000,
  idleTimeout: 65_000,
};

export const REJECT_REASONS = ['concurrency', 'unauthorized', 'body-too-large', 'malformed', 'client-certificate'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Caps the requests in progress. Liveness and readiness are exempt: a kubelet probe answered with
 * 503 under a burst of scrapes would restart a healthy agent.
 */
export function concurrencyLimit(opts: { max: number; exempt: ReadonlySet<string>; onChange?: (inFlight: number) => void; onRejected?: () => void }): RequestHandler {
  let inFlight = 0;
  return (req, res, next) => {
    if (opts.exempt.has(req.path)) {
      next();
      return;
    }
    if (inFlight >= opts.max) {
      opts.onRejected?.();
      res.status(503).set('Retry-After', '1').json({ error: `too many requests in progress (limit ${opts.max}); retry shortly` });
      return;
    }
    inFlight++;
    opts.onChange?.(inFlight);
    res.once('close', () => {
      inFlight--;
      opts.onChange?.(inFlight);
    });
    next();
  };
}

/**
 * Refuses declared bodies over the limit before anything reads them. Handlers that parse bodies
 * use the same limit (express.json({ limit })), which also covers chunked bodies.
 */
export function bodyLimit(opts: { maxBytes: number; onRejected?: () => void }): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > opts.maxBytes) {
      opts.onRejected?.();
      res.status(413).set('Connection', 'close').json({ error: `request body too large: ${declared} bytes, limit ${opts.maxBytes}` });
      return;
    }
    next();
  };
}
