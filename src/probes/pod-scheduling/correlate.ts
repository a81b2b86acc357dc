import { allOrSome, distinct, type CorrelateContext, type ProbeRun } from '../correlate.ts';
import type { PodSchedulingFacts } from './facts.ts';

/** The request failed at the API server: not answered, or refused for want of RBAC. */
const apiFailure = (r: ProbeRun<PodSchedulingFacts>) => r.probe.reason === 'api-error' || r.probe.reason === 'forbidden';

/**
 * Probe pods: none scheduled anywhere is the scheduler (or the API server, when that is what
 * failed); scheduled everywhere but not started is named as such; failing on some nodes is those
 * nodes' kubelet or container runtime.
 */
export function correlatePodScheduling(runs: readonly ProbeRun<PodSchedulingFacts>[], ctx: CorrelateContext): void {
  const { bad, all } = allOrSome(runs);
  if (bad.length === 0) return;
  // Failures the API server's own cause already explains, or an outage that has ended.
  const own = bad.filter((r) => {
    if (ctx.explained(r.node)) return false;
    if (apiFailure(r) && (ctx.api.down || ctx.api.cutOff.has(r.node))) {
      ctx.explain(r.node);
      return false;
    }
    return true;
  });
  if (own.length === 0) return;
  if (all && own.length === bad.length && own.length >= 2) {
    if (own.every(apiFailure)) {
      ctx.shared('apiserver-down', 'API server', own, runs.length, `pod scheduling failing on every node (${own.length} of ${runs.length}) because the API server fails the requests: ${distinct(own.map((r) => r.probe.message))}`);
    } else if (own.every((r) => r.facts?.scheduled !== true)) {
      // the same failure on every node reads the same without the node's name
      ctx.shared('scheduler', 'scheduler', own, runs.length, `scheduler: no probe pod gets scheduled on any node (${own.length} of ${runs.length}): ${distinct(own.map((r) => r.probe.message.replace(/ on node \S+| onto \S+/g, '')))}`);
    } else {
      ctx.shared(
        'pod-startup-all',
        'pod startup',
        own,
        runs.length,
        `probe pods fail on every node (${own.length} of ${runs.length}) after being scheduled: ${distinct(own.map((r) => `${r.probe.reason ?? 'error'}`))} — ${own[0]!.probe.message}`,
      );
    }
    return;
  }
  for (const r of own) {
    ctx.shared(
      'pod-startup',
      `kubelet/runtime on ${r.node}`,
      [r],
      runs.length,
      `${r.probe.reason === 'kubelet-rejected' ? 'kubelet' : 'kubelet or container runtime'} on ${r.node}: probe pod ${r.probe.reason ?? 'failed'} (${r.probe.message}); ${runs.length - bad.length} of ${runs.length} nodes start theirs`,
      [r.node],
    );
  }
}
