import { Resolver } from 'node:dns/promises';
import type { Logger } from '../log.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { baseUrl, type PeerClient } from './client.ts';
import type { PeerDirectory, PeerRecord } from './directory.ts';
import { pingAnswer } from './wire.ts';

export interface DnsDiscoveryOptions {
  name: string;
  refresh: number;
  podPort: () => number;
  timeout: number;
  client: PeerClient;
  directory: PeerDirectory;
  clock: Clock;
  logger: Logger;
  /** DNS servers to ask ("ip" or "ip:port"); default: the system's. */
  servers?: readonly string[];
}

/**
 * Peers from a headless Service's A records. DNS gives addresses only, so each new address is
 * pinged once to learn its node name (and host IP); names are remembered with the list.
 */
export class DnsDiscovery {
  readonly #opts: DnsDiscoveryOptions;
  readonly #resolve: (name: string) => Promise<string[]>;
  readonly #known = new Map<string, PeerRecord>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(opts: DnsDiscoveryOptions) {
    this.#opts = opts;
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (opts.servers?.length) resolver.setServers([...opts.servers]);
    this.#resolve = (name) => resolver.resolve4(name);
    for (const p of opts.directory.list()) this.#known.set(p.podIP, p);
  }

  start(): void {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const ips = [...new Set(await this.#resolve(this.#opts.name))].sort();
      const records: PeerRecord[] = [];
      await Promise.all(
        ips.map(async (ip) => {
          const known = this.#known.get(ip);
          if (known) {
            records.push(known);
            return;
          }
          try {
            const a = await this.#opts.client.get(baseUrl(ip, this.#opts.podPort()), '/api/v1/ping', pingAnswer, { timeoutMs: this.#opts.timeout });
            const rec: PeerRecord = { node: a.node, podIP: ip, ...(a.hostIP ? { hostIP: a.hostIP } : {}) };
            this.#known.set(ip, rec);
            records.push(rec);
          } catch (err) {
            this.#opts.logger.debug({ err, ip }, 'cannot learn the node name of a DNS peer yet');
          }
        }),
      );
      // Addresses gone from the Service are forgotten: a pod IP reused by another node's agent is asked its name again.
      for (const ip of this.#known.keys()) if (!ips.includes(ip)) this.#known.delete(ip);
      if (!this.#stopped) this.#opts.directory.set('dns', records);
    } catch (err) {
      this.#opts.logger.warn({ err, name: this.#opts.name }, 'DNS peer discovery failed; keeping the last known peers');
    } finally {
      if (!this.#stopped) this.#timer = this.#opts.clock.setTimeout(() => void this.refresh(), this.#opts.refresh);
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
  }
}
