import { allOrSome, distinct, type CorrelateContext, type ProbeRun } from '../correlate.ts';

/** The run got no answer from the API server: its error, or the run itself timed out waiting for it. */
export const apiUnanswered = (run: { reason: string | null }) => run.reason === 'api-error' || run.reason === 'timeout';

/** Stale leases read the same from every agent: one cause. */
export function correlateControlPlane(runs: readonly ProbeRun[], ctx: CorrelateContext): void {
  const { bad, all } = allOrSome(runs);
  const own = bad.filter((r) => {
    if (ctx.explained(r.node)) return false;
    if (apiUnanswered(r.probe) && (ctx.api.down || ctx.api.cutOff.has(r.node))) {
      ctx.explain(r.node);
      return false;
    }
    return true;
  });
  if (!all || own.length < 2 || own.length !== bad.length) return;
  ctx.shared('control-plane', 'control plane', own, runs.length, `control plane: ${distinct(own.map((r) => r.probe.message))} (seen by ${own.length} of ${runs.length} agents)`);
}
