import type { SeenEvent, WatchGap } from '../../k8s/pod-watch.ts';
import { podProgress } from './pod.ts';

/** How long a phase of the probe pod took, and whether it was timed on a live watch. */
export interface Phase {
  ms: number;
  /** False when the watch was down at some point of the phase: its events came late, replayed or re-listed. */
  timed: boolean;
}

export interface Phases {
  /** Created → bound to the node. */
  scheduling?: Phase;
  /** Created → every container running. */
  startup?: Phase;
  /** Deletion seen (or requested) → gone from the API. */
  deletion?: Phase;
}

/**
 * The probe pod's phases from the watch events of that pod, as they arrived here: the API's own
 * latency to this agent cancels out. `createdAt` stands in for a creation the watch did not show,
 * `deleteRequestedAt` for a deletion it did not show before the pod was gone. Pure.
 */
export function phasesFrom(events: readonly SeenEvent[], gaps: readonly WatchGap[], fallback: { createdAt: number; deleteRequestedAt?: number }): Phases {
  const first = (pred: (e: SeenEvent) => boolean) => events.find(pred)?.at;
  const phase = (from: number, to: number): Phase => ({ ms: Math.max(0, to - from), timed: !gaps.some((g) => g.from <= to && (g.to ?? Infinity) >= from) });
  const createdAt = first((e) => e.type === 'ADDED') ?? fallback.createdAt;
  const scheduledAt = first((e) => e.type !== 'DELETED' && podProgress(e.pod).scheduled);
  const runningAt = first((e) => e.type !== 'DELETED' && podProgress(e.pod).running);
  const goneAt = first((e) => e.type === 'DELETED');
  const deleteSeenAt = first((e) => e.type === 'MODIFIED' && Boolean(e.pod.metadata?.deletionTimestamp)) ?? fallback.deleteRequestedAt;
  const out: Phases = {};
  if (scheduledAt !== undefined) out.scheduling = phase(createdAt, scheduledAt);
  if (runningAt !== undefined) out.startup = phase(createdAt, runningAt);
  if (goneAt !== undefined && deleteSeenAt !== undefined) out.deletion = phase(deleteSeenAt, goneAt);
  return out;
}
