import type { Request, RequestHandler } from 'express';
import { BasicAuth, basicAuthMiddleware } from './auth.ts';
import type { ServerLimits } from '../config/limits.ts';
import { bodyLimit, concurrencyLimit, type RejectReason } from './limits.ts';
import type { WebConfigSource } from './web-config-source.ts';

/** Liveness and readiness: answered without credentials and outside the request cap. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export interface GuardOptions {
  limits: ServerLimits;
  webConfig?: WebConfigSource;
  onRejected?: (reason: RejectReason) => void;
  onInFlight?: (n: number) => void;
  /** Requests that pass basic auth without credentials: other agents presenting the peer token. */
  acceptAlso?: (req: Request) => boolean;
}

/** The middleware every request passes before a handler: extra headers, the request cap, the body limit, basic auth. */
export function requestGuards(opts: GuardOptions): RequestHandler[] {
  const { webConfig } = opts;
  const guards: RequestHandler[] = [];
  if (webConfig) {
    guards.push((_req, res, next) => {
      for (const [name, value] of Object.entries(webConfig.current().headers)) res.setHeader(name, value);
      next();
    });
  }
  guards.push(concurrencyLimit({ max: opts.limits.maxConcurrentRequests, exempt: OPEN_PATHS, onChange: opts.onInFlight, onRejected: () => opts.onRejected?.('concurrency') }));
  guards.push(bodyLimit({ maxBytes: opts.limits.maxRequestBodyBytes, onRejected: () => opts.onRejected?.('body-too-large') }));
  if (webConfig) {
    guards.push(basicAuthMiddleware({ auth: new BasicAuth(), users: () => webConfig.current().users, exempt: OPEN_PATHS, acceptAlso: opts.acceptAlso, onRejected: () => opts.onRejected?.('unauthorized') }));
  }
  return guards;
}
