import type { Cause, CauseKind } from '../diagnosis.ts';
import type { ProbeStatus } from '../verdict.ts';

/**
 * The contract of a probe's reading across nodes (`correlate` in its definition): what it is
 * given and what it may say. The cluster status calls each probe's correlate with that probe's
 * runs on every answering node; the helpers below are shared by the probes that correlate.
 */

/** One answering node's run of one probe that ran (not skipped, verdict known), its facts as the probe's schema reads them. */
export interface ProbeRun<F = unknown> {
  node: string;
  probe: ProbeStatus;
  /** Undefined when the run stated none, or stated facts that do not fit the probe's schema (a peer of another version, or a hostile one). */
  facts: F | undefined;
}

/** From which nodes the Kubernetes API server fails, as the probe that checks it reads its runs. */
export interface ApiView {
  /** Failing from every agent that asked it. */
  down: boolean;
  /** The nodes it fails from. */
  cutOff: Set<string>;
}

export interface CorrelateContext {
  /** The nodes whose status is in (the answering ones). */
  readonly nodes: number;
  /** Set by the probe that checks the API server, whose correlate runs before the others that use it. */
  readonly api: ApiView;
  /** Names a component from failing runs of this probe, seen by `bad` of `of` agents, and accounts for those runs. */
  shared(kind: CauseKind, component: string, bad: readonly ProbeRun[], of: number, message: string, nodes?: string[]): void;
  /** Adds a cause built whole; accounts for nothing. */
  cause(c: Cause): void;
  /** This probe's failure on the node is accounted for by a cause: it is not named again as the node's own. */
  explain(node: string): void;
  explained(node: string): boolean;
}

export const failing = (p: ProbeStatus) => p.verdict === 'warning' || p.verdict === 'critical';
export const worstOf = (runs: readonly ProbeRun[]): 'warning' | 'critical' => (runs.some((r) => r.probe.verdict === 'critical') ? 'critical' : 'warning');
/** The earliest of RFC 3339 times (they sort as text). */
export const earliest = (times: readonly (string | null | undefined)[]): string | null => times.filter((t): t is string => typeof t === 'string').sort()[0] ?? null;
export const list = (xs: readonly string[]) => xs.join(', ');
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Distinct messages, at most three, for a cause seen by many agents that mostly say the same. */
export const distinct = (xs: readonly string[]) => {
  const u = [...new Set(xs)];
  return u.length <= 3 ? u.join('; ') : `${u.slice(0, 3).join('; ')}; and ${u.length - 3} more`;
};

/** A probe failing from every agent that ran it is the component; from some of them, those nodes. */
export function allOrSome<F>(runs: readonly ProbeRun<F>[]): { bad: ProbeRun<F>[]; all: boolean } {
  const bad = runs.filter((r) => failing(r.probe));
  return { bad, all: bad.length > 0 && bad.length === runs.length };
}
