import type { z } from 'zod';
import type { Logger } from '../log.ts';
import type { Clock } from '../runner/clock.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Config, NodeIdentity } from '../config/schema.ts';

export type Verdict = 'ok' | 'warning' | 'critical';

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
  /** The probe's own figures, shown in the status API. */
  observations?: Record<string, number | string | boolean | null>;
}

export interface Probe {
  readonly name: string;
  run(signal: AbortSignal): Promise<ProbeResult>;
  /** Releases clients, leases and timers; called once at shutdown. */
  close?(): Promise<void>;
}

/** What a probe may use; every side effect comes in here so tests can control it. */
export interface ProbeDeps {
  node: NodeIdentity;
  config: Config;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  store: HistoryStore;
}

export interface ProbeDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  defaultEnabled: boolean;
  /** Milliseconds between runs unless configured. */
  defaultInterval: number;
  /** Milliseconds a run may take unless configured; must stay below the interval. */
  defaultTimeout: number;
  /** The bounded set of reasons this probe reports (the failure counter's label values). */
  reasons: readonly string[];
  /** Probe-specific options; every field needs a default so `enabled: true` alone is valid. */
  options: z.ZodObject<S>;
  create(deps: ProbeDeps, options: z.output<z.ZodObject<S>>): Probe;
}

/** Keeps the options type attached to the factory while the registry holds definitions of any shape. */
export function defineProbe<S extends z.ZodRawShape>(def: ProbeDefinition<S>): ProbeDefinition {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- erases the options type on purpose
  return def as unknown as ProbeDefinition;
}

export const VERDICT_RANK: Record<Verdict, number> = { ok: 0, warning: 1, critical: 2 };

export function worst(verdicts: Iterable<Verdict>): Verdict {
  let w: Verdict = 'ok';
  for (const v of verdicts) if (VERDICT_RANK[v] > VERDICT_RANK[w]) w = v;
  return w;
}
