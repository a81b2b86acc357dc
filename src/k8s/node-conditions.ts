import type { ProbeStatus } from '../status/local.ts';
import type { PeerObservation } from '../status/cluster-types.ts';

/**
 * What an agent says on its own Node, in node-problem-detector's style: one condition per
 * node-scoped problem, status "True" while it is present and "False" while the node is fine.
 */
export const CONDITION_TYPES = ['VigilPodStartup', 'VigilOverlayNetwork', 'VigilClock'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface DesiredCondition {
  type: ConditionType;
  status: 'True' | 'False';
  /** CamelCase, as Kubernetes condition reasons are. */
  reason: string;
  message: string;
  /** Since when the evidence has said so (ms), when it knows: the condition's lastTransitionTime then. */
  since?: number;
}

export interface ConditionInput {
  self: string;
  probes: readonly ProbeStatus[];
  peers: readonly PeerObservation[];
  clockOffsetThresholdSeconds: number;
}

/** The probe whose runs say whether pods start on this node. */
export const POD_PROBE = 'pod-scheduling';

const POD_STARTUP_REASONS: Record<string, string> = { 'image-pull': 'ImagePullFailing', 'container-create': 'ContainerCreateFailing' };

/**
 * The conditions the evidence supports now. A condition the evidence says nothing about (the
 * probe not run yet, failing for a reason that is not this node's, too few peers to tell) is
 * left out: its last written state stands.
 */
export function desiredConditions(input: ConditionInput): DesiredCondition[] {
  return [podStartup(input), overlay(input), clock(input)].filter((c): c is DesiredCondition => c !== undefined);
}

/** The probe pod failing after it was scheduled here is this node's kubelet or runtime; the scheduler or the API are not. */
function podStartup(input: ConditionInput): DesiredCondition | undefined {
  const p = input.probes.find((x) => x.name === POD_PROBE);
  if (!p || p.verdict === 'unknown' || p.skipped) return undefined;
  const since = p.since === null ? {} : { since: Date.parse(p.since) };
  if (p.verdict !== 'critical') return { type: 'VigilPodStartup', status: 'False', reason: 'ProbePodStarts', message: `the probe pod starts on ${input.self}: ${p.message}`, ...since };
  const reason = POD_STARTUP_REASONS[p.reason ?? ''] ?? (p.reason === 'timeout' && /^probe pod scheduled on /.test(p.message) ? 'ProbePodStartTimeout' : undefined);
  if (!reason) return undefined;
  return { type: 'VigilPodStartup', status: 'True', reason, message: `the probe pod does not start on ${input.self} (kubelet or container runtime): ${p.message}`, ...since };
}

/**
 * The pod network broken from this node while the host path works, to most of the peers it
 * pings (at least two: with one, the peer's own overlay may be the broken one).
 */
function overlay(input: ConditionInput): DesiredCondition | undefined {
  const byPeer = new Map<string, { pod?: PeerObservation; host?: PeerObservation }>();
  for (const o of input.peers) byPeer.set(o.peer, { ...byPeer.get(o.peer), [o.network]: o });
  const hostUp = [...byPeer.entries()].filter(([, v]) => v.host?.up && v.pod);
  if (hostUp.length < 2) return undefined;
  const broken = hostUp.filter(([, v]) => !v.pod!.up).map(([peer]) => peer).sort();
  if (broken.length * 2 > hostUp.length) {
    return { type: 'VigilOverlayNetwork', status: 'True', reason: 'PodNetworkUnreachable', message: `the pod network from ${input.self} does not reach ${broken.length} of ${hostUp.length} peers whose host path answers (${broken.slice(0, 5).join(', ')}${broken.length > 5 ? ', …' : ''})` };
  }
  return { type: 'VigilOverlayNetwork', status: 'False', reason: 'PodNetworkReachable', message: `the pod network from ${input.self} reaches ${hostUp.length - broken.length} of ${hostUp.length} peers whose host path answers` };
}

const median = (sorted: readonly number[]) => {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
};

/**
 * This node's clock is off when the peers it pings agree with each other (a majority, at least
 * two, within the threshold of their median) and that median is past the threshold: the same
 * consensus the cluster status uses, from this node's side. One peer cannot say whose clock it is.
 */
function clock(input: ConditionInput): DesiredCondition | undefined {
  const t = input.clockOffsetThresholdSeconds;
  const perPeer = new Map<string, number>();
  for (const o of input.peers) {
    if (!o.up || o.clockOffsetSeconds === null) continue;
    if (!perPeer.has(o.peer) || o.network === 'pod') perPeer.set(o.peer, o.clockOffsetSeconds);
  }
  const offsets = [...perPeer.values()].sort((a, b) => a - b);
  if (offsets.length < 2) return undefined;
  const m = median(offsets);
  const agreeing = offsets.filter((x) => Math.abs(x - m) <= t).length;
  if (agreeing < 2 || agreeing * 2 <= offsets.length) return undefined;
  // a peer's offset is its clock minus ours: peers ahead means this clock is behind
  const off = -m;
  if (Math.abs(off) > t) {
    return { type: 'VigilClock', status: 'True', reason: 'ClockOffset', message: `the clock of ${input.self} is ${Math.abs(off).toFixed(3)} s ${off > 0 ? 'ahead of' : 'behind'} ${agreeing} of ${offsets.length} peers, which agree with each other (threshold ${t} s)` };
  }
  return { type: 'VigilClock', status: 'False', reason: 'ClockInSync', message: `the clock of ${input.self} agrees with ${agreeing} of ${offsets.length} peers within ${t} s` };
}
