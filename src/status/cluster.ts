import { byCodeUnit } from '../compare.ts';
import { indexByPeer, nameCauses, type Answer, type Edge } from './causes.ts';
import type { ProbeStatus } from './local.ts';
import { millis } from './when.ts';
import type { ClusterNode, ClusterProbe, ClusterStatus, ClusterVerdict, Completeness, FailureKind, LocalStatusWithPeers, Network } from './cluster-types.ts';

/** What the fan-out got from one node: its local status, or why not (`asked: false`: never sent; `downSince`: this agent's pings find it down). */
export type FanoutResult = ({ ok: true; status: LocalStatusWithPeers } | { ok: false; failure: FailureKind; error: string; asked?: false; downSince?: string }) & {
  /** The relay it came through, when it came through one: its words as the relay passed them on. */
  via?: string;
};

/** Up to this many nodes the answer carries every reachability edge and every probe's message; beyond, the edges that are down and the messages of probes not ok, unless asked for all. */
export const FULL_REACHABILITY_NODES = 100;

/**
 * Above this many nodes the answer lists no probes of a node whose verdict is ok, and no reachability
 * edges (each node's `unreachableFrom` names who cannot reach it), unless asked for: 5,000 nodes fit
 * in well under 1 MB.
 */
export const COMPACT_ANSWER_NODES = 1000;

export interface MergeInput {
  asker: string;
  time: number;
  /** Every known node, the asker included. */
  nodes: readonly string[];
  results: ReadonlyMap<string, FanoutResult>;
  clockOffsetThresholdSeconds: number;
  /** Every reachability edge whatever the cluster's size (`?detail=reachability`). */
  allEdges?: boolean;
  /** Each probe's whole record, its figures included when the results carry them (`?detail=probes`). */
  fullProbes?: boolean;
  /** How the relays did, when the statuses were gathered through relays. */
  relays?: GatherReport;
}

/** What the relays did for one request (peers/relays.ts fills it in). */
export interface GatherReport {
  groups: number;
  /** Relays that answered. */
  answered: number;
  /** Groups whose first relay was replaced by the next. */
  replaced: number;
  /** Members asked directly because no relay answered for them. */
  direct: number;
  /** Entries a relay sent for nodes it was not asked about, dropped. */
  foreign: readonly unknown[];
}

/** Merges the nodes' local statuses into the cluster's: verdicts, reachability, causes. Pure. */
export function mergeCluster(input: MergeInput): ClusterStatus {
  const names = new Set(input.nodes);
  names.add(input.asker);
  const edges: Edge[] = [];
  // in name order, not in the order the answers arrived: the same observations give the same answer
  for (const node of [...input.results.keys()].sort(byCodeUnit)) {
    const r = input.results.get(node)!;
    if (!r.ok) continue;
    for (const o of r.status.peers) {
      if (o.peer === node) continue;
      names.add(o.peer);
      edges.push({
        observer: node,
        peer: o.peer,
        network: o.network,
        up: o.up,
        failure: o.failure ?? null,
        clockOffsetSeconds: o.clockOffsetSeconds,
        rttSeconds: o.rttSeconds,
        since: millis(o.since),
        clockOffSince: millis(o.clockOffSince),
      });
    }
  }
  const nodes = [...names].sort();
  const answers = new Map<string, Answer>();
  for (const n of nodes) {
    const r = input.results.get(n);
    if (!r) answers.set(n, { ok: false, failure: 'unreachable', error: 'not asked', asked: false });
    else if (r.ok) answers.set(n, { ok: true, verdict: r.status.verdict, probes: r.status.probes });
    else answers.set(n, { ok: false, failure: r.failure, error: r.error, ...(r.asked === false ? { asked: false } : {}) });
  }
  const byPeer = indexByPeer(edges);
  const { causes, partitions } = nameCauses({ asker: input.asker, nodes, answers, edges, clockOffsetThresholdSeconds: input.clockOffsetThresholdSeconds }, byPeer);

  const small = nodes.length <= FULL_REACHABILITY_NODES;
  const compact = nodes.length > COMPACT_ANSWER_NODES;
  const allEdges = input.allEdges === true || small;
  const probeView = (p: ProbeStatus): ClusterProbe => {
    if (input.fullProbes) return p;
    const { name, verdict, since, lastRun, skipped } = p;
    return small || verdict !== 'ok' ? { name, verdict, reason: p.reason, message: p.message, since, lastRun, skipped } : { name, verdict, since, lastRun, skipped };
  };
  const clusterNodes: ClusterNode[] = nodes.map((name) => {
    const r = input.results.get(name);
    const from: Record<Network, string[]> = { pod: [], host: [] };
    for (const e of byPeer.get(name) ?? []) if (!e.up) from[e.network].push(e.observer);
    from.pod.sort();
    from.host.sort();
    return {
      name,
      verdict: r?.ok ? r.status.verdict : 'unreachable',
      answered: r?.ok ?? false,
      error: r === undefined ? 'not asked' : r.ok ? null : r.error,
      probes: r?.ok && !(compact && !input.fullProbes && r.status.verdict === 'ok') ? r.status.probes.map(probeView) : [],
      unreachableFrom: from,
      ...(r && !r.ok && r.downSince ? { downSince: r.downSince } : {}),
      ...(r?.via ? { via: r.via } : {}),
    };
  });
  let oldest: number | null = null;
  for (const r of input.results.values()) {
    const t = r.ok ? millis(r.status.time) : null;
    if (t !== null && (oldest === null || t < oldest)) oldest = t;
  }
  const answered = clusterNodes.filter((n) => n.answered).length;
  const completeness: Completeness = {
    nodes: clusterNodes.length,
    answered,
    unanswered: clusterNodes.length - answered,
    oldestAnswerSeconds: oldest === null ? null : Math.max(0, (input.time - oldest) / 1000),
    gathered: input.relays ? 'relays' : 'direct',
    ...(input.relays ? { relays: { groups: input.relays.groups, answered: input.relays.answered, replaced: input.relays.replaced, askedDirectly: input.relays.direct, foreignDropped: input.relays.foreign.length } } : {}),
  };

  let verdict: ClusterVerdict = 'healthy';
  if (causes.some((c) => c.kind !== 'node-unknown')) verdict = 'degraded';
  else if (causes.length > 0) verdict = 'unknown';

  return {
    observer: input.asker,
    time: new Date(input.time).toISOString(),
    verdict,
    completeness,
    causes,
    nodes: clusterNodes,
    probesShown: compact && !input.fullProbes ? 'not-ok' : 'all',
    reachability: compact && !allEdges ? [] : (allEdges ? edges : edges.filter((e) => !e.up)).map((e) => ({ observer: e.observer, peer: e.peer, network: e.network, up: e.up, rttSeconds: e.rttSeconds })),
    reachabilityShown: allEdges ? 'all' : compact ? 'none' : 'down',
    partitions,
  };
}
