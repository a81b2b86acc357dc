import { formatDuration } from '../config/duration.ts';

/** Fraction of the interval by which each run moves earlier or later. */
export const RUN_JITTER = 0.1;

/** The longest a run may take: with the jitter, the next run can be due this soon after it started. */
export const longestTimeout = (interval: number): number => Math.floor(interval * (1 - RUN_JITTER));

/**
 * A timeout left unset: the probe's own default, or less on a short interval, leaving half the
 * jitter's margin for an aborted run to wind down before the next is due.
 */
export const defaultTimeout = (interval: number, probeDefault: number): number => Math.min(probeDefault, Math.floor(interval * (1 - 2 * RUN_JITTER)));

/** Why a timeout is refused for an interval, or undefined when it fits. */
export function timeoutProblem(interval: number, timeout: number): string | undefined {
  const longest = longestTimeout(interval);
  if (timeout <= longest) return undefined;
  return `must be at most ${formatDuration(longest)}, ${100 * (1 - RUN_JITTER)} % of the interval (${formatDuration(interval)}): a run may start ${100 * RUN_JITTER} % early, and the one before must be over by then; got ${formatDuration(timeout)}`;
}
