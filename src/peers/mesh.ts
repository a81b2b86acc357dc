import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { FailureKind, Network, PeerObservation } from '../status/cluster-types.ts';
import { assignPeers } from './assign.ts';
import { baseUrl, PeerError, type PeerClient } from './client.ts';
import type { PeerDirectory, PeerRecord } from './directory.ts';
import { pingAnswer } from './wire.ts';

export interface MeshOptions {
  self: string;
  directory: PeerDirectory;
  client: PeerClient;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  k: number;
  interval: number;
  timeout: number;
  podPort: number;
  hostPort?: number;
  random?: () => number;
  /** Monotonic milliseconds for round-trip times. */
  monotonic?: () => number;
}

interface PingOutcome {
  up: boolean;
  rttMs: number | null;
  offsetMs: number | null;
  error: string | null;
  failure: FailureKind | null;
}

/** The addresses of a peer's agent on each network it can be reached over. */
export function endpoints(p: PeerRecord, ports: { podPort: number; hostPort?: number }): Partial<Record<Network, string>> {
  const out: Partial<Record<Network, string>> = { pod: baseUrl(p.podIP, p.podPort ?? ports.podPort) };
  const hostPort = p.hostPort ?? ports.hostPort;
  if (p.hostIP && hostPort) out.host = baseUrl(p.hostIP, hostPort);
  return out;
}

/**
 * The peer loop: every interval, ping this agent's share of the mesh over the pod network and the
 * host path, keep the last observation of each, and export them. It lives beside the probe runner
 * rather than in it because its state (who is known, what was seen) is also what the peer API
 * serves, and because a peer being down is not this node's failure.
 */
export class PeerMesh {
  readonly #o: MeshOptions;
  readonly #observations = new Map<string, PeerObservation>();
  readonly #monotonic: () => number;
  #targets: string[] = [];
  #targetsFor = -1;
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #abort = new AbortController();
  #stopped = false;

  constructor(opts: MeshOptions) {
    this.#o = opts;
    this.#monotonic = opts.monotonic ?? (() => performance.now());
  }

  start(): void {
    this.#schedule((this.#o.random ?? Math.random)() * 0.1 * this.#o.interval);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      const jitter = 1 + 0.1 * (2 * (this.#o.random ?? Math.random)() - 1);
      this.#schedule(this.#o.interval * jitter);
      if (this.#round) return; // the previous round is still waiting on its timeouts
      this.#round = this.round().finally(() => (this.#round = undefined));
    }, ms);
  }

  /** The peers this agent pings, recomputed only when membership changes. */
  targets(): string[] {
    const d = this.#o.directory;
    if (this.#targetsFor !== d.version) {
      this.#targets = assignPeers(this.#o.self, d.list().map((p) => p.node), this.#o.k);
      this.#targetsFor = d.version;
    }
    return this.#targets;
  }

  /** One round: ping every target over every network it has, in parallel; never throws. */
  async round(): Promise<void> {
    const { metrics, directory } = this.#o;
    const targets = this.targets();
    const set = new Set(targets);
    for (const [key, obs] of this.#observations) {
      if (set.has(obs.peer)) continue;
      this.#observations.delete(key);
      metrics.peerUp.remove({ peer_node: obs.peer, network: obs.network });
      metrics.peerClockOffset.remove({ peer_node: obs.peer });
    }
    metrics.peersKnown.set(directory.list().length);
    metrics.peersProbed.set(targets.length);
    await Promise.all(
      targets.map(async (node) => {
        const p = directory.get(node);
        if (!p) return;
        const eps = endpoints(p, this.#o);
        const results = await Promise.all((Object.entries(eps) as [Network, string][]).map(async ([network, url]) => [network, await this.#ping(node, url)] as const));
        let offset: number | null = null;
        for (const [network, r] of results) {
          if (this.#stopped) return;
          const key = `${node}\0${network}`;
          const prev = this.#observations.get(key);
          const now = new Date(this.#o.clock.now()).toISOString();
          this.#observations.set(key, {
            peer: node,
            network,
            up: r.up,
            rttSeconds: r.rttMs === null ? null : r.rttMs / 1000,
            clockOffsetSeconds: r.offsetMs === null ? null : r.offsetMs / 1000,
            lastChecked: now,
            since: prev && prev.up === r.up ? (prev.since ?? now) : now,
            error: r.error,
            failure: r.failure,
          });
          metrics.peerUp.set({ peer_node: node, network }, r.up ? 1 : 0);
          if (r.rttMs !== null) metrics.peerRtt.observe({ network }, r.rttMs / 1000);
          // the pod path is the one workloads use; the host path stands in when it is down
          if (r.offsetMs !== null && (offset === null || network === 'pod')) offset = r.offsetMs;
        }
        if (offset !== null) metrics.peerClockOffset.set({ peer_node: node }, offset / 1000);
        else metrics.peerClockOffset.remove({ peer_node: node });
      }),
    );
  }

  async #ping(node: string, url: string): Promise<PingOutcome> {
    const { clock, client, timeout } = this.#o;
    const t0 = clock.now();
    const m0 = this.#monotonic();
    try {
      const answer = await client.get(url, '/api/v1/ping', pingAnswer, { timeoutMs: timeout, signal: this.#abort.signal });
      const rttMs = this.#monotonic() - m0;
      const t1 = clock.now();
      if (answer.node !== node) return { up: false, rttMs: null, offsetMs: null, error: `answered as node "${answer.node.slice(0, 60)}"`, failure: 'bad' };
      return { up: true, rttMs, offsetMs: answer.time - (t0 + t1) / 2, error: null, failure: null };
    } catch (err) {
      const e = err instanceof PeerError ? err : new PeerError('unreachable', String(err));
      return { up: false, rttMs: null, offsetMs: null, error: e.message, failure: e.kind };
    }
  }

  /** The last observation of every target on every network, for the local status. */
  observations(): PeerObservation[] {
    return [...this.#observations.values()].sort((a, b) => a.peer.localeCompare(b.peer) || a.network.localeCompare(b.network));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#abort.abort(new DOMException('agent shutting down', 'AbortError'));
    await this.#round;
  }
}
