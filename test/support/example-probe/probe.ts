// A probe that is not shipped: how a new probe brings its whole slice in one folder. It reports
// whether this node can reach an image registry mirror; failing from every node is the mirror
// (one cause), failing from some is those nodes' own, and each node says so on its Node.
// Shipping it would take one line more: its definition in src/probes/index.ts.
import { z } from 'zod';
import { allOrSome, distinct, type CorrelateContext, type ProbeRun } from '../../../src/probes/correlate.ts';
import { defineProbe, type ProbeCondition } from '../../../src/probes/probe.ts';

export const registryFacts = z.object({ mirror: z.string().max(253) });
export type RegistryFacts = z.output<typeof registryFacts>;

function correlate(runs: readonly ProbeRun<RegistryFacts>[], ctx: CorrelateContext): void {
  const { bad, all } = allOrSome(runs);
  if (!all || bad.length < 2) return;
  const mirrors = [...new Set(bad.map((r) => r.facts?.mirror ?? 'the mirror'))];
  ctx.shared('registry-down', `registry ${mirrors.join(', ')}`, bad, runs.length, `registry mirror ${mirrors.join(', ')} unreachable from every node (${bad.length} of ${runs.length}): ${distinct(bad.map((r) => r.probe.message))}`);
}

const condition: ProbeCondition<RegistryFacts> = {
  type: 'VigilRegistryMirror',
  desired: (self, { probe, facts }) =>
    probe.verdict === 'ok'
      ? { type: 'VigilRegistryMirror', status: 'False', reason: 'MirrorReachable', message: `${self} reaches ${facts?.mirror ?? 'the mirror'}` }
      : { type: 'VigilRegistryMirror', status: 'True', reason: 'MirrorUnreachable', message: `${self} does not reach ${facts?.mirror ?? 'the mirror'}: ${probe.message}` },
};

export const registryProbe = defineProbe({
  name: 'registry-mirror',
  defaultEnabled: false,
  defaultInterval: 60_000,
  defaultTimeout: 10_000,
  reasons: ['unreachable'],
  options: z.object({ mirror: z.string().default('mirror.example:5000'), reachable: z.boolean().default(true) }),
  facts: registryFacts,
  correlate,
  condition,
  create: (_deps, opts) => ({
    run: () =>
      Promise.resolve(
        opts.reachable
          ? { verdict: 'ok' as const, message: `${opts.mirror} answered`, facts: { mirror: opts.mirror } }
          : { verdict: 'critical' as const, reason: 'unreachable', message: `${opts.mirror}: connect ETIMEDOUT`, facts: { mirror: opts.mirror } },
      ),
  }),
});
