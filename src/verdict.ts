/**
 * The verdict vocabulary every part of the agent speaks: probes produce results, the runner
 * completes runs, the local status turns them into transitions, the history stores those.
 * A leaf module: it imports nothing.
 */

export type Verdict = 'ok' | 'warning' | 'critical';

/** A probe's verdict as the status reports it: unknown before its first run. */
export type StatusVerdict = Verdict | 'unknown';

export const VERDICT_RANK: Record<Verdict, number> = { ok: 0, warning: 1, critical: 2 };

export function worst(verdicts: Iterable<Verdict>): Verdict {
  let w: Verdict = 'ok';
  for (const v of verdicts) if (VERDICT_RANK[v] > VERDICT_RANK[w]) w = v;
  return w;
}

/** Reasons every probe may report; the runner itself produces them. */
export const COMMON_REASONS = ['timeout', 'error'] as const;

export interface ProbeResult {
  verdict: Verdict;
  /** One of the probe's declared reasons (or a common one); required unless the verdict is ok. */
  reason?: string;
  /** What and how much, for a person: "etcd 198.18.0.3:2379: put p50 412 ms > 100 ms". */
  message: string;
  /** The run did not apply (a cordoned node, say): reported, but neither success nor failure. */
  skipped?: boolean;
  /** The probe's own figures, for people: shown in the status API, never read by code. */
  observations?: Record<string, number | string | boolean | null>;
  /** What code reads of the run (the cluster's correlation, Node conditions), in the shape the probe's facts schema declares. */
  facts?: Facts;
}

/** A JSON object within the bounds the wire allows (`peers/wire.ts`), in the shape the probe's facts schema declares. */
export type Facts = Record<string, unknown>;

/** A probe's last run on one node, as the node's status reports it. */
export interface ProbeStatus {
  name: string;
  verdict: StatusVerdict;
  reason: string | null;
  message: string;
  /** When the probe entered its current verdict (RFC 3339), null before its first run. */
  since: string | null;
  lastRun: string | null;
  durationSeconds: number | null;
  skipped: boolean;
  observations: ProbeResult['observations'] | null;
  /** Absent from agents that predate facts; null before the first run and from runs that state none. */
  facts?: Facts | null;
}

/** A probe as the runner runs it: what a probe definition creates. */
export interface Probe {
  readonly name: string;
  run(signal: AbortSignal): Promise<ProbeResult>;
  /** Releases clients, leases and timers; called once at shutdown. */
  close?(): Promise<void>;
}

/** One finished run of a probe, as the runner hands it on. */
export interface CompletedRun {
  probe: string;
  result: ProbeResult;
  startedAt: number;
  finishedAt: number;
}

/** A probe's verdict changed. */
export interface Transition {
  time: number;
  probe: string;
  from: StatusVerdict;
  to: Verdict;
  reason: string | null;
  message: string;
}
