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
