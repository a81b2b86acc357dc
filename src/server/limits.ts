import type { RequestHandler } from 'express';

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
      res
        .status(503)
        .set('Retry-After', '1')
        .json({ error: `too many requests in progress (limit ${opts.max}); retry shortly` });
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
      res
        .status(413)
        .set('Connection', 'close')
        .json({ error: `request body too large: ${declared} bytes, limit ${opts.maxBytes}` });
      return;
    }
    next();
  };
}
