import type { DesiredCondition } from '../diagnosis.ts';
import { builtinProbes } from '../probes/index.ts';
import { runOf, type ProbeDefinition } from '../probes/probe.ts';
import type { PeerObservation } from '../status/cluster-types.ts';
import { clockReading, mostLinksBroken } from '../status/consensus.ts';
import type { ProbeStatus } from '../status/local.ts';

export type { DesiredCondition } from '../diagnosis.ts';

/**
 * What an agent says on its own Node, in node-problem-detector's style: one condition per
 * node-scoped problem, status "True" while it is present and "False" while the node is fine.
 * Each probe that has one decides its own (its definition's `condition`); the mesh's two are here.
 */
export interface ConditionInput {
  self: string;
  probes: readonly ProbeStatus[];
  peers: readonly PeerObservation[];
  clockOffsetThresholdSeconds: number;
}

/**
 * The conditions the evidence supports now. A condition the evidence says nothing about (the
 * probe not run yet, failing for a reason that is not this node's, too few peers to tell) is
 * left out: its last written state stands.
 */
export function desiredConditions(input: ConditionInput, probes: readonly ProbeDefinition[] = builtinProbes): DesiredCondition[] {
  const fromProbes = probes.map((def) => {
    const p = def.condition && input.probes.find((x) => x.name === def.name);
    const run = p && runOf(def, input.self, p);
    return run && def.condition?.desired(input.self, run);
  });
  return [...fromProbes, overlay(input), clock(input)].filter((c): c is DesiredCondition => c !== undefined);
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
  const broken = hostUp
    .filter(([, v]) => !v.pod!.up)
    .map(([peer]) => peer)
    .sort();
  if (mostLinksBroken(broken.length, hostUp.length)) {
    return {
      type: 'VigilOverlayNetwork',
      status: 'True',
      reason: 'PodNetworkUnreachable',
      message: `the pod network from ${input.self} does not reach ${broken.length} of ${hostUp.length} peers whose host path answers (${broken.slice(0, 5).join(', ')}${broken.length > 5 ? ', …' : ''})`,
    };
  }
  return { type: 'VigilOverlayNetwork', status: 'False', reason: 'PodNetworkReachable', message: `the pod network from ${input.self} reaches ${hostUp.length - broken.length} of ${hostUp.length} peers whose host path answers` };
}

/**
 * This node's clock is off when the peers it pings agree with each other and their median offset
 * is past the threshold: the consensus the cluster status uses, from this node's side.
 */
function clock(input: ConditionInput): DesiredCondition | undefined {
  const t = input.clockOffsetThresholdSeconds;
  const perPeer = new Map<string, number>();
  for (const o of input.peers) {
    if (!o.up || o.clockOffsetSeconds === null) continue;
    if (!perPeer.has(o.peer) || o.network === 'pod') perPeer.set(o.peer, o.clockOffsetSeconds);
  }
  const offsets = [...perPeer.values()];
  if (offsets.length < 2) return undefined;
  const reading = clockReading(offsets, t);
  if (!reading.consensus) return undefined;
  // a peer's offset is its clock minus ours: peers ahead means this clock is behind
  const off = -reading.median;
  if (Math.abs(off) > t) {
    return {
      type: 'VigilClock',
      status: 'True',
      reason: 'ClockOffset',
      message: `the clock of ${input.self} is ${Math.abs(off).toFixed(3)} s ${off > 0 ? 'ahead of' : 'behind'} ${reading.agreeing} of ${offsets.length} peers, which agree with each other (threshold ${t} s)`,
    };
  }
  return { type: 'VigilClock', status: 'False', reason: 'ClockInSync', message: `the clock of ${input.self} agrees with ${reading.agreeing} of ${offsets.length} peers within ${t} s` };
}
