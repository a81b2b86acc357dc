import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { NodeIdentity } from '../config/schema.ts';
import type { KubeClients } from '../k8s/client.ts';
import type { Logger } from '../log.ts';
import type { ProbeResult } from '../verdict.ts';

export interface Probe {
  readonly name: string;
  run(signal: AbortSignal): Promise<ProbeResult>;
  /** Releases clients, leases and timers; called once at shutdown. */
  close?(): Promise<void>;
}

/** What every probe gets; every side effect comes in here so tests can control it. */
export interface ProbeDeps {
  /** This node, as the config names it. */
  node: NodeIdentity;
  /** Milliseconds between runs, as configured. */
  interval: number;
  /** Milliseconds a run may take before the runner aborts it, as configured. */
  timeout: number;
  clock: Clock;
  logger: Logger;
  /** Where the probe registers its own metrics: they exist only when the probe runs. */
  registry: Registry;
}

/** Clients a probe receives only when it declares them, each built once per agent on first use. */
export interface ProbeClients {
  /** The agent's Kubernetes clients; rejects with a message naming the credentials when they cannot be loaded. */
  kubernetes: () => Promise<KubeClients>;
}

export type ClientName = keyof ProbeClients;

export interface ProbeDefinition<S extends z.ZodRawShape = z.ZodRawShape, C extends ClientName = ClientName> {
  name: string;
  defaultEnabled: boolean;
  /** Milliseconds between runs unless configured. */
  defaultInterval: number;
  /** Milliseconds a run may take unless configured; must stay below the interval. */
  defaultTimeout: number;
  /** The bounded set of reasons this probe reports (the failure counter's label values). */
  reasons: readonly string[];
  /** The clients the probe needs; only these are handed to `create`. */
  clients?: readonly C[];
  /** Probe-specific options; every field needs a default so `enabled: true` alone is valid. */
  options: z.ZodObject<S>;
  create(deps: ProbeDeps & Pick<ProbeClients, C>, options: z.output<z.ZodObject<S>>): Probe;
}

/** Keeps the options and clients types attached to the factory while the registry holds definitions of any shape. */
export function defineProbe<S extends z.ZodRawShape, C extends ClientName = never>(def: ProbeDefinition<S, C>): ProbeDefinition {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- erases the options type on purpose
  return def as unknown as ProbeDefinition;
}
