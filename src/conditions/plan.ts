import type { V1NodeCondition } from '@kubernetes/client-node';
import type { DesiredCondition } from '../diagnosis.ts';

/** A Vigil condition as the Node carries it, as last written or read. */
export interface Written {
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  /** When it was last written (ms); 0 when only read from the node. */
  at: number;
}

/** metav1.Time: RFC 3339 in whole seconds. */
export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * When each wanted condition is next due (ms), and whether any is due now: a status change at
 * once, a new reason or message after minIntervalMs, the same again after heartbeatMs.
 */
export function due(want: ReadonlyMap<string, DesiredCondition>, written: ReadonlyMap<string, Written> | undefined, now: number, opts: { minIntervalMs: number; heartbeatMs: number }): { dueNow: boolean; next: number } {
  let next = Infinity;
  let dueNow = false;
  for (const [type, w] of want) {
    const had = written?.get(type);
    if (!had || had.at === 0 || had.status !== w.status) {
      dueNow = true;
      continue;
    }
    const changed = had.reason !== w.reason || had.message !== w.message;
    const at = had.at + (changed ? opts.minIntervalMs : opts.heartbeatMs);
    if (at <= now) dueNow = true;
    else next = Math.min(next, at);
  }
  return { dueNow, next };
}

/**
 * The patch of every wanted condition at `at`, the transitions it makes (each told as an event)
 * and what the Node carries once it is written. Pure.
 */
export function planWrite(want: ReadonlyMap<string, DesiredCondition>, written: ReadonlyMap<string, Written>, at: number): { conditions: V1NodeCondition[]; transitions: DesiredCondition[]; updated: Map<string, Written> } {
  const stamp = rfc3339(at);
  const conditions: V1NodeCondition[] = [];
  const transitions: DesiredCondition[] = [];
  const updated = new Map(written);
  for (const [type, w] of want) {
    const had = written.get(type);
    const changed = !had || had.status !== w.status;
    // the evidence's own transition time when it has one (a change seen during an outage is written
    // later); also when the Node carries the status with no transition time (null), since the
    // server refuses an empty one (metav1.Time) and that would block every later write
    const lastTransitionTime = changed || !had.lastTransitionTime ? rfc3339(Math.min(w.since ?? at, at)) : had.lastTransitionTime;
    // the first False on a node that never carried the condition is not a recovery
    if (changed && (had || w.status === 'True')) transitions.push(w);
    updated.set(type, { status: w.status, reason: w.reason, message: w.message, lastTransitionTime, at });
    conditions.push({ type, status: w.status, reason: w.reason, message: w.message, lastHeartbeatTime: stamp as unknown as Date, lastTransitionTime: lastTransitionTime as unknown as Date });
  }
  return { conditions, transitions, updated };
}
