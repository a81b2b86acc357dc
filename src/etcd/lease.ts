import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../log.ts';

/**
 * The one long-lived lease every probe key is attached to, kept alive by the client in the
 * background. When the agent dies the keep-alives stop and etcd deletes the keys after the TTL;
 * when the lease is lost (etcd unreachable for longer than that) the next run grants a new one.
 */
export class ProbeLease {
  readonly #client: Etcd3;
  readonly #ttlSeconds: number;
  readonly #logger: Logger;
  #lease: Lease | undefined;
  #id: Promise<string> | undefined;

  constructor(opts: { client: Etcd3; ttlSeconds: number; logger: Logger }) {
    this.#client = opts.client;
    this.#ttlSeconds = opts.ttlSeconds;
    this.#logger = opts.logger;
  }

  /** The lease ID, granting a lease first when there is none or it was lost. */
  id(deadline: Date): Promise<string> {
    if (this.#lease && this.#id && !this.#lease.revoked()) return this.#id;
    const lease = this.#client.lease(this.#ttlSeconds, { deadline });
    lease.on('lost', (err: Error) => {
      this.#logger.warn({ err }, 'the etcd probe lease was lost; a new one is granted on the next run');
    });
    this.#lease = lease;
    this.#id = lease.grant();
    // The grant's failure is reported by the run that awaits it; this keeps it from going unhandled meanwhile.
    this.#id.catch(() => undefined);
    return this.#id;
  }

  /** Stops the keep-alives and lets the lease expire by itself: for when the client is about to be closed. */
  release(): void {
    this.#lease?.release();
    this.#lease = undefined;
    this.#id = undefined;
  }

  /** Revokes the lease so the probe's keys go at once rather than after the TTL. */
  async revoke(deadline: Date): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    this.#id = undefined;
    if (!lease) return;
    try {
      await lease.revoke({ deadline });
    } catch (err) {
      this.#logger.warn({ err }, 'could not revoke the etcd probe lease; its keys go when it expires');
    }
  }
}
