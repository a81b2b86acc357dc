import type { Clock } from '../clock.ts';
import type { PeerMeshMetrics } from '../metrics/metrics.ts';
import type { FailureKind, Network, PeerObservation } from '../status/cluster-types.ts';
import { assignPeers } from './assign.ts';
import { baseUrl, PeerError, type PeerClient } from './client.ts';
import type { PeerDirectory, PeerRecord } from './directory.ts';
import { clockOffSince, peerTransition, type PeerTransition } from './transitions.ts';
import { pingAnswer } from './wire.ts';
import { byCodeUnit } from '../compare.ts';

export interface MeshOptions {
  self: string;
  directory: PeerDirectory;
  client: PeerClient;
  clock: Clock;
  metrics: PeerMeshMetrics;
  k: number;
  /** Milliseconds a ping may take. */
  timeout: number;
  podPort: number;
  hostPort?: number;
  /** Monotonic milliseconds for round-trip times. */
  monotonic?: () => number;
  /** Milliseconds a peer's clock may be off before its observation says since when it is. */
  clockOffsetThreshold?: number;
  /** A peer went up or down on a network (first seen up is not a transition); the history records it. */
  onTransition?: (t: PeerTransition) => void;
}

/** What one round saw: its targets, and those that did not answer on some network. */
export interface RoundSummary {
  targets: number;
  down: { peer: string; network: Network; failure: FailureKind | null }[];
}

interface PingOutcome {
  up: boolean;
  rttMs: number | null;
  offsetMs: number | null;
  error: string | null;
  failure: FailureKind | null;
}

/**
 * The peer's clock minus ours, as little as the ping allows. The peer read its clock somewhere
 * between our send and our receipt, so the midpoint's estimate is off by up to half the round
 * trip; a ping slowed by either side's event loop (a starved agent, a busy node) can put the whole
 * round trip on one side. Taken towards zero by that half, an offset beyond the threshold is one
 * that no timing of the answer explains, so a slow ping never reads as a clock off.
 */
export function boundedOffset(midpointMs: number, halfRoundTripMs: number): number {
  const h = Math.max(0, halfRoundTripMs);
  return Math.abs(midpointMs) <= h ? 0 : midpointMs - Math.sign(midpointMs) * h;
}

/** The addresses of a peer's agent on each network it can be reached over. */
export function endpoints(p: PeerRecord, ports: { podPort: number; hostPort?: number }): Partial<Record<Network, string>> {
  const out: Partial<Record<Network, string>> = { pod: baseUrl(p.podIP, p.podPort ?? ports.podPort) };
  const hostPort = p.hostPort ?? ports.hostPort;
  if (p.hostIP && hostPort) out.host = baseUrl(p.hostIP, hostPort);
  return out;
}

/**
 * This agent's share of the peer mesh: the peers it pings, over the pod network and the host path,
 * and the last observation of each, which the local status serves to peers. It has no schedule of
 * its own: the runner calls round() as the peer-mesh probe (mesh-probe.ts).
 */
export class PeerMesh {
  readonly #opts: MeshOptions;
  readonly #observations = new Map<string, PeerObservation>();
  readonly #monotonic: () => number;
  #targets: string[] = [];
  #targetsFor = -1;

  constructor(opts: MeshOptions) {
    this.#opts = opts;
    this.#monotonic = opts.monotonic ?? (() => performance.now());
  }

  /** The peers this agent pings, recomputed only when membership changes. */
  targets(): string[] {
    const d = this.#opts.directory;
    if (this.#targetsFor !== d.version) {
      this.#targets = assignPeers(
        this.#opts.self,
        d.list().map((p) => p.node),
        this.#opts.k,
      );
      this.#targetsFor = d.version;
    }
    return this.#targets;
  }

  /** One round: ping every target over every network it has, in parallel; never throws. An aborted round records nothing. */
  async round(signal: AbortSignal): Promise<RoundSummary> {
    const { metrics, directory } = this.#opts;
    const targets = this.targets();
    const set = new Set(targets);
    for (const [key, obs] of this.#observations) {
      if (set.has(obs.peer)) continue;
      this.#observations.delete(key);
      metrics.peerUp.remove({ peer_node: obs.peer, network: obs.network });
      if (obs.failure) metrics.peerFailure.remove({ peer_node: obs.peer, network: obs.network, kind: obs.failure });
      metrics.peerClockOffset.remove({ peer_node: obs.peer });
    }
    metrics.peersKnown.set(directory.list().length);
    metrics.peersProbed.set(targets.length);
    const down: RoundSummary['down'] = [];
    await Promise.all(
      targets.map(async (node) => {
        const p = directory.get(node);
        if (!p) return;
        const eps = endpoints(p, this.#opts);
        const results = await Promise.all((Object.entries(eps) as [Network, string][]).map(async ([network, url]) => [network, await this.#ping(node, url, signal)] as const));
        let offset: number | null = null;
        for (const [network, r] of results) {
          if (signal.aborted) return;
          if (!r.up) down.push({ peer: node, network, failure: r.failure });
          const key = `${node}\0${network}`;
          const prev = this.#observations.get(key);
          const nowMs = this.#opts.clock.now();
          const now = new Date(nowMs).toISOString();
          const next: PeerObservation = {
            peer: node,
            network,
            up: r.up,
            rttSeconds: r.rttMs === null ? null : r.rttMs / 1000,
            clockOffsetSeconds: r.offsetMs === null ? null : r.offsetMs / 1000,
            lastChecked: now,
            since: prev && prev.up === r.up ? (prev.since ?? now) : now,
            clockOffSince: clockOffSince(prev, r.offsetMs, this.#opts.clockOffsetThreshold ?? Infinity, now),
            error: r.error,
            failure: r.failure,
          };
          this.#observations.set(key, next);
          const t = peerTransition(prev, next, nowMs);
          if (t) this.#opts.onTransition?.(t);
          metrics.peerUp.set({ peer_node: node, network }, r.up ? 1 : 0);
          // One series per failing link, naming how it failed: refused (the host is up, its agent is not) reads differently from a timeout.
          if (prev?.failure && prev.failure !== r.failure) metrics.peerFailure.remove({ peer_node: node, network, kind: prev.failure });
          if (r.failure) metrics.peerFailure.set({ peer_node: node, network, kind: r.failure }, 1);
          if (r.rttMs !== null) metrics.peerRtt.observe({ network }, r.rttMs / 1000);
          // the pod path is the one workloads use; the host path stands in when it is down
          if (r.offsetMs !== null && (offset === null || network === 'pod')) offset = r.offsetMs;
        }
        if (offset !== null) metrics.peerClockOffset.set({ peer_node: node }, offset / 1000);
        else metrics.peerClockOffset.remove({ peer_node: node });
      }),
    );
    down.sort((a, b) => byCodeUnit(a.peer, b.peer) || byCodeUnit(a.network, b.network));
    return { targets: targets.length, down };
  }

  async #ping(node: string, url: string, signal: AbortSignal): Promise<PingOutcome> {
    const { clock, client, timeout } = this.#opts;
    const t0 = clock.now();
    const m0 = this.#monotonic();
    try {
      const answer = await client.get(url, '/api/v1/ping', pingAnswer, { timeoutMs: timeout, signal });
      const rttMs = this.#monotonic() - m0;
      const t1 = clock.now();
      if (answer.node !== node) return { up: false, rttMs: null, offsetMs: null, error: `answered as node "${answer.node.slice(0, 60)}"`, failure: 'bad' };
      return { up: true, rttMs, offsetMs: boundedOffset(answer.time - (t0 + t1) / 2, (t1 - t0) / 2), error: null, failure: null };
    } catch (err) {
      const e = err instanceof PeerError ? err : new PeerError('unreachable', String(err));
      return { up: false, rttMs: null, offsetMs: null, error: e.message, failure: e.kind };
    }
  }

  /** The last observation of every target on every network, for the local status. */
  observations(): PeerObservation[] {
    return [...this.#observations.values()].sort((a, b) => byCodeUnit(a.peer, b.peer) || byCodeUnit(a.network, b.network));
  }
}
