import type { z } from 'zod';
import type { ProbeResult } from '../verdict.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Config, NodeIdentity } from '../config/schema.ts';

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
