import type { PromiseHttpLibrary, RequestContext, ResponseContext } from '@kubernetes/client-node';

/**
 * How many times one request is sent again after an answer that asks for it (client-go's
 * default, rest/request.go maxRetries).
 */
export const MAX_RETRIES = 10;
/** The longest wait one Retry-After may ask for; the request's own timeout bounds the whole. */
export const MAX_RETRY_AFTER_MS = 10_000;

/**
 * The wait an answer asks for before the same request is sent again, as client-go reads it
 * (rest/request.go checkWait): a 429 or any 5xx that carries Retry-After in whole seconds. The
 * API server sends it where trying again is the cure: priority and fairness rejecting a request
 * (429), the watch cache initialising after a restart (429 "storage is (re)initializing"), a
 * server shutting down (503). Undefined for every other answer, a 5xx without Retry-After among them:
 * those are failures to report, not to hide.
 */
export function retryAfterMs(status: number, headers: Record<string, string>): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const value = headers['retry-after'];
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(Number(value.trim()) * 1000, MAX_RETRY_AFTER_MS);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Every call of the generated API clients goes through this: an answer with Retry-After (see
 * retryAfterMs) is waited out and the same request sent again, up to MAX_RETRIES times, within
 * the request's own signal (its timeout). When the signal ends the wait, or the retries run out,
 * the last answer is what the caller gets, so its error names what the server said.
 * client-node 1.4 never retries; client-go does, and so do the clients of every controller the
 * cluster runs.
 */
export class RetryingHttpLibrary implements PromiseHttpLibrary {
  readonly #base: PromiseHttpLibrary;
  readonly #pause: (ms: number, signal: AbortSignal | undefined) => Promise<void>;

  constructor(base: PromiseHttpLibrary, opts: { pause?: (ms: number, signal: AbortSignal | undefined) => Promise<void> } = {}) {
    this.#base = base;
    this.#pause = opts.pause ?? pause;
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#base.send(request);
      const wait = retryAfterMs(response.httpStatusCode, response.headers);
      const signal = request.getSignal();
      if (wait === undefined || attempt >= MAX_RETRIES || signal?.aborted) return response;
      // Read the answer to its end (its connection goes back to the pool) and keep it: it is
      // what the caller gets if the wait is cut short.
      const body = await response.body.binary().catch(() => Buffer.alloc(0));
      response.body = { binary: () => Promise.resolve(body), text: () => Promise.resolve(body.toString('utf8')) };
      await this.#pause(wait, signal);
      if (signal?.aborted) return response;
    }
  }
}
