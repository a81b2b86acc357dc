import { byCodeUnit } from '../../compare.ts';
import { earliest, failing, plural, type CorrelateContext, type ProbeRun } from '../correlate.ts';
import type { EtcdFacts } from './facts.ts';

type Problem = NonNullable<EtcdFacts['clusterProblem']>;

interface MemberSeen {
  /** Agents that observed the member at all. */
  observers: Set<string>;
  /** Agents that report a problem with it, with its put time and alarms. */
  problems: (Problem & { run: ProbeRun<EtcdFacts>; putMs: number | null; alarms: string[] })[];
}

/** Problems the member's agents cannot have caused themselves (credentials are per agent). */
const PER_AGENT = new Set(['tls', 'auth']);
const MEMBER_WORDS: Record<string, string> = {
  unreachable: 'down or unreachable',
  'no-leader': 'knows no leader',
  'write-failed': 'writes fail',
  'read-failed': 'linearizable reads fail',
};

const range = (xs: number[]) => {
  const lo = Math.round(Math.min(...xs));
  const hi = Math.round(Math.max(...xs));
  return lo === hi ? `${lo} ms` : `${lo}–${hi} ms`;
};

/**
 * etcd member by member, named by the member name etcd reports (its endpoint when unknown): a
 * member slow for three agents is one cause "seen by 3 of 3"; quorum lost or no leader is etcd's.
 */
export function correlateEtcd(runs: readonly ProbeRun<EtcdFacts>[], ctx: CorrelateContext): void {
  const members = new Map<string, MemberSeen>();
  const cluster: (Problem & { run: ProbeRun<EtcdFacts> })[] = [];
  const accounted = new Map<string, boolean>();
  for (const run of runs) {
    const facts = run.facts;
    // Without per-member facts (a setup failure, or an agent that states none) the failure stays this agent's.
    let covered = failing(run.probe) && (facts?.members.length ?? 0) > 0;
    for (const m of facts?.members ?? []) {
      const name = m.name ?? m.endpoint;
      const seen = members.get(name) ?? { observers: new Set(), problems: [] };
      members.set(name, seen);
      seen.observers.add(run.node);
      if (!m.problem) continue;
      if (PER_AGENT.has(m.problem.reason)) {
        covered = false;
        continue;
      }
      seen.problems.push({ run, ...m.problem, putMs: m.putMs, alarms: m.alarms });
    }
    if (facts?.clusterProblem) cluster.push({ run, ...facts.clusterProblem });
    accounted.set(run.node, covered);
  }
  const clusterWide = cluster.filter((x) => x.reason === 'quorum-lost' || x.reason === 'no-leader');
  if (clusterWide.length > 0) {
    const lost = clusterWide.some((x) => x.reason === 'quorum-lost');
    ctx.shared(
      'etcd-cluster',
      'etcd',
      clusterWide.map((x) => x.run),
      runs.length,
      `etcd ${lost ? 'has lost quorum' : 'has no leader'}: seen by ${clusterWide.length} of ${runs.length} agents`,
    );
  }
  for (const [name, seen] of [...members].sort(([a], [b]) => byCodeUnit(a, b))) {
    if (seen.problems.length === 0) continue;
    const worst = seen.problems.some((p) => p.verdict === 'critical') ? 'critical' : 'warning';
    const reasons = new Set(seen.problems.map((p) => p.reason));
    const what: string[] = [];
    if (reasons.has('unreachable')) what.push(MEMBER_WORDS.unreachable!);
    if (reasons.has('alarm')) what.push(`alarm ${[...new Set(seen.problems.flatMap((p) => p.alarms))].join(', ') || 'raised'}`);
    if (reasons.has('slow-write')) {
      const puts = seen.problems.filter((p) => p.reason === 'slow-write' && p.putMs !== null).map((p) => p.putMs!);
      what.push(puts.length ? `writes slow (${range(puts)})` : 'writes time out');
    }
    for (const r of ['no-leader', 'write-failed', 'read-failed']) if (reasons.has(r)) what.push(MEMBER_WORDS[r]!);
    const agents = [...new Set(seen.problems.map((p) => p.run.node))].sort();
    ctx.cause({
      kind: 'etcd-member',
      severity: worst,
      nodes: [],
      component: `etcd member ${name}`,
      seenBy: { agents, of: seen.observers.size },
      since: earliest(seen.problems.map((p) => p.run.probe.since)),
      message: `etcd member ${name}: ${what.join(', ')}, seen by ${agents.length} of ${plural(seen.observers.size, 'agent')}`,
    });
  }
  for (const run of runs) if (accounted.get(run.node)) ctx.explain(run.node);
}
