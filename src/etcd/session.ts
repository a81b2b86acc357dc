import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.ts';
import { clusterClient, memberClient } from './client.ts';
import { ProbeLease } from './lease.ts';
import { observeMember } from './member.ts';
import type { EtcdSettings } from './settings.ts';
import { hexId, type MemberObservation } from './verdict.ts';

export interface EtcdSessionOptions {
  endpoints: readonly string[];
  settings: EtcdSettings;
  leaseTtlSeconds: number;
  logger: Logger;
}

/**
 * The probe's connections: a client per member, a client over all of them for the lease, and
 * the lease. Loaded only when the probe runs, so an agent without it does not carry etcd3 and gRPC.
 */
export class EtcdSession {
  readonly #endpoints: readonly string[];
  readonly #members: Etcd3[];
  readonly #cluster: Etcd3;
  readonly #lease: ProbeLease;
  /** Per member: whether its KV channel served the last run (see observeMember). */
  readonly #kvReady: boolean[];
  /** Member ID → name, from the member list; asked again only when a member ID is new. */
  readonly #names = new Map<string, string>();
  /** Per endpoint, the identity its series were exported under when it last answered. */
  readonly #lastMember: (string | undefined)[];

  constructor(opts: EtcdSessionOptions) {
    this.#endpoints = opts.endpoints;
    this.#members = opts.endpoints.map((e) => memberClient(e, opts.settings));
    this.#cluster = clusterClient(opts.endpoints, opts.settings);
    this.#kvReady = opts.endpoints.map(() => false);
    this.#lastMember = opts.endpoints.map(() => undefined);
    this.#lease = new ProbeLease({ client: this.#cluster, ttlSeconds: opts.leaseTtlSeconds, logger: opts.logger });
  }

  /** One run: every member observed at once, each under its own key `<prefix><endpoint>`. */
  observe(opts: { prefix: string; timeoutMs: number }): Promise<MemberObservation[]> {
    // gRPC deadlines are wall-clock times; latencies are measured on the monotonic clock.
    const lease = this.#lease.id(new Date(Date.now() + opts.timeoutMs));
    return Promise.all(
      this.#endpoints.map(async (endpoint, i) => {
        const client = this.#members[i]!;
        const obs = await observeMember({ endpoint, client, key: `${opts.prefix}${endpoint}`, lease, kvReady: this.#kvReady[i]!, timeoutMs: opts.timeoutMs, now: () => performance.now(), wallNow: () => Date.now() });
        // etcd3 drops a member's channels after a connection error, so any failure means a cold start next time.
        this.#kvReady[i] = !obs.down && !obs.getFailure && !obs.putFailure && obs.getMs !== undefined;
        if (obs.memberId !== undefined && !this.#names.has(obs.memberId)) await this.#learnNames(client, opts.timeoutMs);
        const name = obs.memberId === undefined ? undefined : this.#names.get(obs.memberId);
        if (name) obs.name = name;
        // The metrics' identity: the name; unnamed (a member list that failed, a member without a name), the identity it had, else its ID.
        obs.member = obs.name ?? this.#lastMember[i] ?? (obs.memberId !== undefined ? hexId(obs.memberId) : endpoint);
        this.#lastMember[i] = obs.member;
        return obs;
      }),
    );
  }

  /** The member list as the member answering knows it; a failure leaves the names unknown until the next run. */
  async #learnNames(client: Etcd3, timeoutMs: number): Promise<void> {
    try {
      const list = await client.cluster.memberList({}, { deadline: new Date(Date.now() + timeoutMs) });
      for (const m of list.members) if (m.name) this.#names.set(m.ID, m.name);
    } catch {
      // the name is a convenience; the endpoint still names the member
    }
  }

  /** Stops the lease's keep-alives (its keys expire by themselves) and closes the clients. */
  release(): void {
    this.#lease.release();
    for (const m of this.#members) m.close();
    this.#cluster.close();
  }

  /** Revokes the lease, so the probe's keys go at once, then closes the clients. */
  async close(timeoutMs: number): Promise<void> {
    await this.#lease.revoke(new Date(Date.now() + timeoutMs));
    this.release();
  }
}
