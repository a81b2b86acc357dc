import type { Cause, CauseKind } from '../diagnosis.ts';
import { byCodeUnit } from '../compare.ts';
import { builtinProbes } from '../probes/index.ts';
import { distinct, earliest, failing, list, worstOf, type ApiView, type CorrelateContext, type ProbeRun } from '../probes/correlate.ts';
import { runOf, type ProbeDefinition } from '../probes/probe.ts';
import type { ProbeStatus } from './local.ts';

/**
 * Shared components named once, from what every agent's probes say: each probe's own reading
 * across nodes (its definition's `correlate`), run over the answering nodes' runs. An etcd member
 * slow for three agents is one cause "seen by 3 of 3", the API server failing from every node is
 * the API server, failing from one node is that node's path to it. Pure.
 */

export interface ComponentInput {
  /** Per answering node, its probes. */
  probes: ReadonlyMap<string, readonly ProbeStatus[]>;
}

export interface ComponentCauses {
  causes: Cause[];
  /** Per node, the failing probes a component cause accounts for: they are not named again per node. */
  explained: Map<string, Set<string>>;
}

/** Each answering node's run of the probe that ran (not skipped, verdict known), with the facts the probe's schema accepts. */
function runsOf(input: ComponentInput, def: ProbeDefinition): ProbeRun[] {
  const out: ProbeRun[] = [];
  for (const [node, probes] of input.probes) {
    const p = probes.find((x) => x.name === def.name);
    const run = p && runOf(def, node, p);
    if (run) out.push(run);
  }
  return out.sort((a, b) => byCodeUnit(a.node, b.node));
}

class Collector {
  readonly causes: Cause[] = [];
  readonly explained = new Map<string, Set<string>>();

  explain(node: string, probe: string): void {
    const s = this.explained.get(node) ?? new Set();
    s.add(probe);
    this.explained.set(node, s);
  }

  shared(kind: CauseKind, component: string, bad: readonly ProbeRun[], of: number, message: string, nodes: string[] = []): void {
    this.causes.push({ kind, severity: worstOf(bad), nodes, component, seenBy: { agents: bad.map((r) => r.node), of }, since: earliest(bad.map((r) => r.probe.since)), message });
    for (const r of bad) this.explain(r.node, r.probe.name);
  }

  /** What one probe's correlate is handed: the collector, scoped to that probe. */
  context(probe: string, nodes: number, api: ApiView): CorrelateContext {
    return {
      nodes,
      api,
      shared: (kind, component, bad, of, message, named) => this.shared(kind, component, bad, of, message, named),
      cause: (c) => this.causes.push(c),
      explain: (node) => this.explain(node, probe),
      explained: (node) => this.explained.get(node)?.has(probe) ?? false,
    };
  }
}

const usesApi = (d: ProbeDefinition) => !d.checksApi && (d.clients?.includes('kubernetes') ?? false);

/**
 * A request of a probe that uses the API server which the API server did not answer says so
 * about the API server, not about what the probe checks. Where the checking probe's own cause
 * does not already cover the node: once that probe has had an answer on the node since, the
 * failure is an outage that has ended (the probe's next run will tell; a pod run may be minutes
 * away) and is explained; otherwise it is the API server failing from that node.
 */
function unansweredRequests(input: ComponentInput, c: Collector, api: ApiView, checkers: readonly ProbeRun[][], users: readonly { def: ProbeDefinition; runs: ProbeRun[] }[]): void {
  if (api.down) return;
  // per node, when the API server last answered a check in full
  const answered = new Map<string, string>();
  for (const r of checkers.flat()) {
    if (r.probe.verdict !== 'ok' || r.probe.lastRun === null) continue;
    const had = answered.get(r.node);
    if (!had || r.probe.lastRun > had) answered.set(r.node, r.probe.lastRun);
  }
  const uncovered: ProbeRun[] = [];
  for (const { def, runs } of users) {
    if (!def.apiUnanswered) continue;
    for (const r of runs) {
      if (!failing(r.probe) || !def.apiUnanswered(r.probe) || api.cutOff.has(r.node)) continue;
      const a = answered.get(r.node);
      if (a !== undefined && r.probe.lastRun !== null && a > r.probe.lastRun) c.explain(r.node, def.name);
      else uncovered.push(r);
    }
  }
  if (uncovered.length === 0) return;
  const nodes = [...new Set(uncovered.map((r) => r.node))].sort(byCodeUnit);
  const first = nodes.map((n) => uncovered.find((r) => r.node === n)!);
  const of = input.probes.size;
  if (nodes.length === of && of >= 2)
    c.shared('apiserver-down', 'API server', first, of, `API server failing every agent's requests (${of} of ${of}; no answer since): ${distinct(uncovered.map((r) => `${r.probe.name}: ${r.probe.message}`))}`);
  else
    c.shared(
      'apiserver-path',
      'API server',
      first,
      of,
      `API server failing from ${list(nodes)} only (no answer to ${nodes.length === 1 ? 'that node' : 'those nodes'} since): ${uncovered.map((r) => `${nodes.length === 1 ? '' : `${r.node} `}${r.probe.name}: ${r.probe.message}`).join('; ')}`,
      nodes,
    );
  for (const r of uncovered) c.explain(r.node, r.probe.name);
  for (const n of nodes) api.cutOff.add(n);
}

/**
 * The component causes, and which per-node probe failures they account for. The probes that do
 * not depend on the API server are read first, then the one that checks it, then the requests it
 * left unanswered, then the probes that use it (which read what the checker found).
 */
export function componentCauses(input: ComponentInput, probes: readonly ProbeDefinition[] = builtinProbes): ComponentCauses {
  const c = new Collector();
  const api: ApiView = { down: false, cutOff: new Set() };
  const nodes = input.probes.size;
  const read = (defs: readonly ProbeDefinition[]) => defs.map((def) => ({ def, runs: runsOf(input, def) }));
  const correlate = (slices: readonly { def: ProbeDefinition; runs: ProbeRun[] }[]) => {
    for (const { def, runs } of slices) def.correlate?.(runs, c.context(def.name, nodes, api));
  };
  correlate(read(probes.filter((d) => !d.checksApi && !usesApi(d))));
  const checkers = read(probes.filter((d) => d.checksApi));
  correlate(checkers);
  const users = read(probes.filter(usesApi));
  unansweredRequests(
    input,
    c,
    api,
    checkers.map((s) => s.runs),
    users,
  );
  correlate(users);
  return { causes: c.causes, explained: c.explained };
}
