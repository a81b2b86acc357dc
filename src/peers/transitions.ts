import type { PeerObservation } from '../status/cluster-types.ts';

/** A peer's reachability over one network changing, as one agent saw it; it goes into the history. */
export interface PeerTransition {
  time: number;
  /** The history's subject: `peer/<node>/<network>`, so `?probe=peer/bravo/pod` filters one link. */
  probe: string;
  from: 'unknown' | 'up' | 'down';
  to: 'up' | 'down';
  /** The failure kind when down (timeout, unreachable, refused, http, bad). */
  reason: string | null;
  message: string;
}

export const peerSubject = (peer: string, network: string) => `peer/${peer}/${network}`;

/**
 * The transition from the previous observation to the next, if any. A peer first seen up is not
 * a transition (every start would log the whole mesh); first seen down is.
 */
export function peerTransition(prev: PeerObservation | undefined, next: PeerObservation, time: number): PeerTransition | undefined {
  if (prev ? prev.up === next.up : next.up) return undefined;
  const link = `${next.peer} over the ${next.network} network`;
  return {
    time,
    probe: peerSubject(next.peer, next.network),
    from: prev ? (prev.up ? 'up' : 'down') : 'unknown',
    to: next.up ? 'up' : 'down',
    reason: next.up ? null : (next.failure ?? null),
    message: next.up ? `${link} reachable again` : `${link} unreachable: ${next.error ?? 'no answer'}`,
  };
}

/** Since when the peer's clock has been off by more than the threshold (ISO), carried from the previous observation. */
export function clockOffSince(prev: PeerObservation | undefined, offsetMs: number | null, thresholdMs: number, now: string): string | null {
  if (offsetMs === null || Math.abs(offsetMs) <= thresholdMs) return null;
  return prev?.clockOffSince ?? now;
}
