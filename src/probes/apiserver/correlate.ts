import { allOrSome, distinct, list, type CorrelateContext, type ProbeRun } from '../correlate.ts';
import type { ApiserverFacts } from './facts.ts';

/**
 * The API server failing from every agent is the API server; from some of them, those nodes'
 * path to it. Either way it sets from which nodes the API server fails, which the probes that use
 * it read (ctx.api).
 */
export function correlateApiserver(runs: readonly ProbeRun<ApiserverFacts>[], ctx: CorrelateContext): void {
  const { bad, all } = allOrSome(runs);
  if (bad.length === 0) return;
  if (all) {
    ctx.shared('apiserver-down', 'API server', bad, runs.length, `API server failing from every agent (${bad.length} of ${runs.length}): ${distinct(bad.map((r) => r.probe.message))}`);
    ctx.api.down = true;
    for (const r of bad) ctx.api.cutOff.add(r.node);
    return;
  }
  const checks = (r: ProbeRun<ApiserverFacts>) => {
    const failing = r.facts?.failingChecks ?? {};
    const named = (['livez', 'readyz'] as const).filter((e) => failing[e] !== undefined).map((e) => `/${e} failing: ${failing[e]!.join(',')}`);
    return `${r.node}: ${named.length ? named.join(', ') : `${r.probe.reason ?? 'error'}: ${r.probe.message}`}`;
  };
  const nodes = bad.map((r) => r.node);
  ctx.shared(
    'apiserver-path',
    'API server',
    bad,
    runs.length,
    `API server failing from ${list(nodes)} only (${bad.length} of ${runs.length} agents; the others reach it): the path from ${nodes.length === 1 ? 'that node' : 'those nodes'} — ${bad.map(checks).join('; ')}`,
    nodes,
  );
  for (const n of nodes) ctx.api.cutOff.add(n);
}
