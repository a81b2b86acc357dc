/**
 * The rules the cluster status and an agent's own Node conditions both judge by, in one place so
 * that the two never disagree about the same node. Pure.
 */

/** The median of a sorted list; the mean of the middle two when even. */
export function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

export interface ClockReading {
  /** The median of the offsets. */
  median: number;
  /** How many offsets lie within the threshold of the median. */
  agreeing: number;
  /** Whether an offset lies within the threshold of the median. */
  agrees(offset: number): boolean;
  /** At least two, and a majority, agree: the median can be trusted. */
  consensus: boolean;
}

/**
 * Offsets of one clock as several others see it: only a majority of at least two that agree with
 * each other (within the threshold of their median) says anything. One alone proves nothing: a
 * skewed observer sees every healthy clock skewed.
 */
export function clockReading(offsets: readonly number[], thresholdSeconds: number): ClockReading {
  const sorted = [...offsets].sort((a, b) => a - b);
  const m = sorted.length ? median(sorted) : 0;
  const agrees = (x: number) => Math.abs(x - m) <= thresholdSeconds;
  const agreeing = sorted.filter(agrees).length;
  return { median: m, agreeing, agrees, consensus: agreeing >= 2 && agreeing * 2 > sorted.length };
}

/**
 * A node's own pod network is broken, rather than its partners', when its links are broken to at
 * least two peers and to most of those it has links with: with one, the peer may be the broken one.
 */
export const mostLinksBroken = (broken: number, linked: number): boolean => broken >= 2 && broken * 2 > linked;
