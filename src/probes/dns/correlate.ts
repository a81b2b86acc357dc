import { allOrSome, distinct, list, type CorrelateContext, type ProbeRun } from '../correlate.ts';

/** DNS failing from every agent is cluster DNS; from some, those nodes. */
export function correlateDns(runs: readonly ProbeRun[], ctx: CorrelateContext): void {
  const { bad, all } = allOrSome(runs);
  if (bad.length === 0) return;
  if (all) {
    ctx.shared('dns-down', 'cluster DNS', bad, runs.length, `cluster DNS failing from every agent (${bad.length} of ${runs.length}): ${distinct(bad.map((r) => r.probe.message))}`);
    return;
  }
  const nodes = bad.map((r) => r.node);
  ctx.shared('dns-node', 'DNS', bad, runs.length, `DNS failing on ${list(nodes)} only (${bad.length} of ${runs.length} agents; the others resolve): ${bad.map((r) => `${r.node}: ${r.probe.message}`).join('; ')}`, nodes);
}
