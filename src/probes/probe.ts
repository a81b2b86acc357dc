import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { NodeIdentity } from '../config/schema.ts';
import type { KubeClients } from '../k8s/client.ts';
import type { Logger } from '../log.ts';
import type { DesiredCondition } from '../diagnosis.ts';
import type { Probe, ProbeStatus } from '../verdict.ts';
import type { CorrelateContext, ProbeRun } from './correlate.ts';

export type { Probe } from '../verdict.ts';

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

/** The Node condition a probe decides from its own run on this node. */
export interface ProbeCondition<F> {
  /** "Vigil" and the problem in CamelCase. */
  type: string;
  /** The condition the run supports, or undefined when it says nothing about this node (the last written state stands). */
  desired(self: string, run: ProbeRun<F>): DesiredCondition | undefined;
}

export interface ProbeDefinition<S extends z.ZodRawShape = z.ZodRawShape, C extends ClientName = ClientName, F = unknown> {
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
  /** The probe itself, named by the definition's name. */
  create(deps: ProbeDeps & Pick<ProbeClients, C>, options: z.output<z.ZodObject<S>>): Omit<Probe, 'name'>;
  /**
   * What its runs state for code (ProbeResult.facts): the figures its correlate and condition
   * read. Checked wherever they are read, a peer's included: facts that do not fit are dropped.
   */
  facts?: z.ZodType<F>;
  /** Its reading across nodes: the causes its runs on every answering node add up to, and the failures those account for. */
  correlate?(runs: readonly ProbeRun<F>[], ctx: CorrelateContext): void;
  /** The Node condition its run on this node decides. */
  condition?: ProbeCondition<F>;
  /**
   * It checks the Kubernetes API server itself: its correlate runs before those of the probes
   * that use the API server and sets what they read of it (ctx.api), and its verdict tells the
   * Node-condition writer whether the API server is down from here.
   */
  checksApi?: boolean;
  /** Whether a failed run of it means only that the API server never answered its request (it then says nothing about what it checks). */
  apiUnanswered?(run: ProbeStatus): boolean;
}

/** Keeps the options and clients types attached to the factory while the registry holds definitions of any shape. */
export function defineProbe<S extends z.ZodRawShape, C extends ClientName = never, F = unknown>(def: ProbeDefinition<S, C, F>): ProbeDefinition {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- erases the options type on purpose
  return def as unknown as ProbeDefinition;
}

/**
 * A node's run of the probe as its correlate and condition read it: undefined when it did not run
 * (skipped, or no verdict yet); its facts as the probe's schema reads them, dropped if they do not fit.
 */
export function runOf(def: ProbeDefinition, node: string, status: ProbeStatus): ProbeRun | undefined {
  if (status.skipped || status.verdict === 'unknown') return undefined;
  const parsed = def.facts && status.facts != null ? def.facts.safeParse(status.facts) : undefined;
  return { node, probe: status, facts: parsed?.success ? parsed.data : undefined };
}
