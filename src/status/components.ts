import type { Cause, CauseKind } from './cluster-types.ts';
import type { ProbeStatus } from './local.ts';
import { byCodeUnit } from '../compare.ts';

/**
 * Shared components named once, from what every agent's probes say: an etcd member slow for three
 * agents is one cause "seen by 3 of 3", the API server failing from every node is the API server,
 * failing from one node is that node's path to it. Pure.
 */

/** One answering node's result of one probe that ran (not skipped, verdict known). */
interface Run {
  node: string;
  probe: ProbeStatus;
}

export interface ComponentInput {
  /** Per answering node, its probes. */
  probes: ReadonlyMap<string, readonly ProbeStatus[]>;
}

export interface ComponentCauses {
  causes: Cause[];
  /** Per node, the failing probes a component cause accounts for: they are not named again per node. */
  explained: Map<string, Set<string>>;
}

const failing = (p: ProbeStatus) => p.verdict === 'warning' || p.verdict === 'critical';
const worstOf = (runs: readonly Run[]): 'warning' | 'critical' => (runs.some((r) => r.probe.verdict === 'critical') ? 'critical' : 'warning');
const earliest = (times: readonly (string | null | undefined)[]): string | null => times.filter((t): t is string => typeof t === 'string').sort()[0] ?? null;
const list = (xs: readonly string[]) => xs.join(', ');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Distinct messages, at most three, for a cause seen by many agents that mostly say the same. */
const distinct = (xs: readonly string[]) => {
  const u = [...new Set(xs)];
  return u.length <= 3 ? u.join('; ') : `${u.slice(0, 3).join('; ')}; and ${u.length - 3} more`;
};
/** Reasons that mean the request never got a useful answer from the API server. */
const API_REASONS = new Set(['api-error', 'timeout']);

function runsOf(input: ComponentInput, name: string): Run[] {
  const out: Run[] = [];
  for (const [node, probes] of input.probes) {
    const p = probes.find((x) => x.name === name);
    if (p && !p.skipped && p.verdict !== 'unknown') out.push({ node, probe: p });
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

  shared(kind: CauseKind, component: string, bad: readonly Run[], of: number, message: string, nodes: string[] = []): void {
    this.causes.push({ kind, severity: worstOf(bad), nodes, component, seenBy: { agents: bad.map((r) => r.node), of }, since: earliest(bad.map((r) => r.probe.since)), message });
    for (const r of bad) this.explain(r.node, r.probe.name);
  }
}

/** A probe failing from every agent that ran it is the component; from some of them, those nodes. */
function allOrSome(input: ComponentInput, name: string): { runs: Run[]; bad: Run[]; all: boolean } {
  const runs = runsOf(input, name);
  const bad = runs.filter((r) => failing(r.probe));
  return { runs, bad, all: bad.length > 0 && bad.length === runs.length };
}

function apiServer(input: ComponentInput, c: Collector): { down: boolean; cutOff: Set<string> } {
  const { runs, bad, all } = allOrSome(input, 'apiserver');
  if (bad.length === 0) return { down: false, cutOff: new Set() };
  if (all) {
    c.shared('apiserver-down', 'API server', bad, runs.length, `API server failing from every agent (${bad.length} of ${runs.length}): ${distinct(bad.map((r) => r.probe.message))}`);
    return { down: true, cutOff: new Set(bad.map((r) => r.node)) };
  }
  const checks = (r: Run) => {
    const o = r.probe.observations ?? {};
    const named = ['livez', 'readyz'].filter((e) => typeof o[`${e} failing`] === 'string').map((e) => `/${e} failing: ${String(o[`${e} failing`])}`);
    return `${r.node}: ${named.length ? named.join(', ') : `${r.probe.reason ?? 'error'}: ${r.probe.message}`}`;
  };
  const nodes = bad.map((r) => r.node);
  c.shared('apiserver-path', 'API server', bad, runs.length, `API server failing from ${list(nodes)} only (${bad.length} of ${runs.length} agents; the others reach it): the path from ${nodes.length === 1 ? 'that node' : 'those nodes'} — ${bad.map(checks).join('; ')}`, nodes);
  return { down: false, cutOff: new Set(nodes) };
}

function dns(input: ComponentInput, c: Collector): void {
  const { runs, bad, all } = allOrSome(input, 'dns');
  if (bad.length === 0) return;
  if (all) {
    c.shared('dns-down', 'cluster DNS', bad, runs.length, `cluster DNS failing from every agent (${bad.length} of ${runs.length}): ${distinct(bad.map((r) => r.probe.message))}`);
    return;
  }
  const nodes = bad.map((r) => r.node);
  c.shared('dns-node', 'DNS', bad, runs.length, `DNS failing on ${list(nodes)} only (${bad.length} of ${runs.length} agents; the others resolve): ${bad.map((r) => `${r.node}: ${r.probe.message}`).join('; ')}`, nodes);
}

/** The Kubernetes probes' reasons that mean the API server did not answer their request. */
const UNANSWERED: Readonly<Record<string, ReadonlySet<string>>> = { 'pod-scheduling': new Set(['api-error']), 'control-plane': API_REASONS };

/**
 * A Kubernetes probe whose request the API server did not answer says so about the API server, not
 * about the kubelet, the scheduler or the probe. Where the API server's own cause does not already
 * cover the node: once the node's apiserver probe has had an answer since, the failure is an
 * outage that has ended (the probe's next run will tell; a pod run may be minutes away) and is
 * explained; otherwise it is the API server failing from that node.
 */
function unansweredRequests(input: ComponentInput, c: Collector, api: { down: boolean; cutOff: Set<string> }): void {
  if (api.down) return;
  const apiserver = new Map(runsOf(input, 'apiserver').map((r) => [r.node, r.probe]));
  const uncovered: Run[] = [];
  for (const [name, reasons] of Object.entries(UNANSWERED)) {
    for (const r of runsOf(input, name)) {
      if (!failing(r.probe) || !reasons.has(r.probe.reason ?? '') || api.cutOff.has(r.node)) continue;
      const a = apiserver.get(r.node);
      if (a?.verdict === 'ok' && a.lastRun !== null && r.probe.lastRun !== null && a.lastRun > r.probe.lastRun) c.explain(r.node, name);
      else uncovered.push(r);
    }
  }
  if (uncovered.length === 0) return;
  const nodes = [...new Set(uncovered.map((r) => r.node))].sort(byCodeUnit);
  const first = nodes.map((n) => uncovered.find((r) => r.node === n)!);
  const of = input.probes.size;
  if (nodes.length === of && of >= 2) c.shared('apiserver-down', 'API server', first, of, `API server failing every agent's requests (${of} of ${of}; no answer since): ${distinct(uncovered.map((r) => `${r.probe.name}: ${r.probe.message}`))}`);
  else c.shared('apiserver-path', 'API server', first, of, `API server failing from ${list(nodes)} only (no answer to ${nodes.length === 1 ? 'that node' : 'those nodes'} since): ${uncovered.map((r) => `${nodes.length === 1 ? '' : `${r.node} `}${r.probe.name}: ${r.probe.message}`).join('; ')}`, nodes);
  for (const r of uncovered) c.explain(r.node, r.probe.name);
  for (const n of nodes) api.cutOff.add(n);
}

/**
 * Probe pods: none scheduled anywhere is the scheduler (or the API server, when that is what
 * failed); scheduled everywhere but not started is named as such; failing on some nodes is those
 * nodes' kubelet or container runtime.
 */
function scheduling(input: ComponentInput, c: Collector, api: { down: boolean; cutOff: Set<string> }): void {
  const { runs, bad, all } = allOrSome(input, 'pod-scheduling');
  if (bad.length === 0) return;
  const apiFailure = (r: Run) => r.probe.reason === 'api-error' || r.probe.reason === 'forbidden';
  // Failures the API server's own cause already explains, or an outage that has ended.
  const own = bad.filter((r) => {
    if (c.explained.get(r.node)?.has(r.probe.name)) return false;
    if (apiFailure(r) && (api.down || api.cutOff.has(r.node))) {
      c.explain(r.node, r.probe.name);
      return false;
    }
    return true;
  });
  if (own.length === 0) return;
  const scheduled = (r: Run) => typeof r.probe.observations?.['scheduling seconds'] === 'number';
  if (all && own.length === bad.length && own.length >= 2) {
    if (own.every(apiFailure)) {
      c.shared('apiserver-down', 'API server', own, runs.length, `pod scheduling failing on every node (${own.length} of ${runs.length}) because the API server fails the requests: ${distinct(own.map((r) => r.probe.message))}`);
    } else if (own.every((r) => !scheduled(r))) {
      c.shared('scheduler', 'scheduler', own, runs.length, `scheduler: no probe pod gets scheduled on any node (${own.length} of ${runs.length}): ${distinct(own.map((r) => r.probe.message.replace(/ on node \S+| onto \S+/g, '')))}`);
    } else {
      c.shared('pod-startup-all', 'pod startup', own, runs.length, `probe pods fail on every node (${own.length} of ${runs.length}) after being scheduled: ${distinct(own.map((r) => `${r.probe.reason ?? 'error'}`))} — ${own[0]!.probe.message}`);
    }
    return;
  }
  for (const r of own) {
    c.shared('pod-startup', `kubelet/runtime on ${r.node}`, [r], runs.length, `${r.probe.reason === 'kubelet-rejected' ? 'kubelet' : 'kubelet or container runtime'} on ${r.node}: probe pod ${r.probe.reason ?? 'failed'} (${r.probe.message}); ${runs.length - bad.length} of ${runs.length} nodes start theirs`, [r.node]);
  }
}

/** Stale leases read the same from every agent: one cause. */
function controlPlane(input: ComponentInput, c: Collector, api: { down: boolean; cutOff: Set<string> }): void {
  const { runs, bad, all } = allOrSome(input, 'control-plane');
  const own = bad.filter((r) => {
    if (c.explained.get(r.node)?.has(r.probe.name)) return false;
    if (API_REASONS.has(r.probe.reason ?? '') && (api.down || api.cutOff.has(r.node))) {
      c.explain(r.node, r.probe.name);
      return false;
    }
    return true;
  });
  if (!all || own.length < 2 || own.length !== bad.length) return;
  c.shared('control-plane', 'control plane', own, runs.length, `control plane: ${distinct(own.map((r) => r.probe.message))} (seen by ${own.length} of ${runs.length} agents)`);
}

interface MemberSeen {
  /** Agents that observed the member at all. */
  observers: Set<string>;
  /** Agents that report a problem with it, with its verdict, reason and put time. */
  problems: { run: Run; verdict: 'warning' | 'critical'; reason: string; putMs: number | null; alarm: string | null }[];
}

/** Problems the member's agents cannot have caused themselves (credentials are per agent). */
const PER_AGENT = new Set(['tls', 'auth']);
const MEMBER_WORDS: Record<string, string> = {
  unreachable: 'down or unreachable',
  'no-leader': 'knows no leader',
  'write-failed': 'writes fail',
  'read-failed': 'linearizable reads fail',
};

function parseProblem(v: unknown): { verdict: 'warning' | 'critical'; reason: string } | undefined {
  if (typeof v !== 'string') return undefined;
  const [verdict, reason] = v.split(' ');
  if ((verdict !== 'warning' && verdict !== 'critical') || !reason) return undefined;
  return { verdict, reason };
}

const range = (xs: number[]) => {
  const lo = Math.round(Math.min(...xs));
  const hi = Math.round(Math.max(...xs));
  return lo === hi ? `${lo} ms` : `${lo}–${hi} ms`;
};

/** etcd member by member, named by the member name etcd reports (its endpoint when unknown). */
function etcd(input: ComponentInput, c: Collector): void {
  const runs = runsOf(input, 'etcd');
  const members = new Map<string, MemberSeen>();
  const cluster: { run: Run; verdict: 'warning' | 'critical'; reason: string }[] = [];
  const accounted = new Map<string, boolean>();
  for (const run of runs) {
    const o = run.probe.observations ?? {};
    const endpoints = Object.keys(o).filter((k) => k.endsWith(' up')).map((k) => k.slice(0, -3));
    // Without per-member observations (a setup failure) the failure stays this agent's.
    let covered = failing(run.probe) && endpoints.length > 0;
    for (const ep of endpoints) {
      const name = typeof o[`${ep} member`] === 'string' ? (o[`${ep} member`] as string) : ep;
      const seen = members.get(name) ?? { observers: new Set(), problems: [] };
      members.set(name, seen);
      seen.observers.add(run.node);
      const p = parseProblem(o[`${ep} problem`]);
      if (!p) continue;
      if (PER_AGENT.has(p.reason)) {
        covered = false;
        continue;
      }
      const put = o[`${ep} put ms`];
      const alarm = o[`${ep} alarm`];
      seen.problems.push({ run, ...p, putMs: typeof put === 'number' ? put : null, alarm: typeof alarm === 'string' ? alarm : null });
    }
    const cp = parseProblem(o['cluster problem']);
    if (cp) cluster.push({ run, ...cp });
    accounted.set(run.node, covered);
  }
  const clusterWide = cluster.filter((x) => x.reason === 'quorum-lost' || x.reason === 'no-leader');
  if (clusterWide.length > 0) {
    const lost = clusterWide.some((x) => x.reason === 'quorum-lost');
    c.shared('etcd-cluster', 'etcd', clusterWide.map((x) => x.run), runs.length, `etcd ${lost ? 'has lost quorum' : 'has no leader'}: seen by ${clusterWide.length} of ${runs.length} agents`);
  }
  for (const [name, seen] of [...members].sort(([a], [b]) => byCodeUnit(a, b))) {
    if (seen.problems.length === 0) continue;
    const worst = seen.problems.some((p) => p.verdict === 'critical') ? 'critical' : 'warning';
    const reasons = new Set(seen.problems.map((p) => p.reason));
    const what: string[] = [];
    if (reasons.has('unreachable')) what.push(MEMBER_WORDS.unreachable!);
    if (reasons.has('alarm')) what.push(`alarm ${[...new Set(seen.problems.flatMap((p) => (p.alarm ? p.alarm.split(',') : [])))].join(', ') || 'raised'}`);
    if (reasons.has('slow-write')) {
      const puts = seen.problems.filter((p) => p.reason === 'slow-write' && p.putMs !== null).map((p) => p.putMs!);
      what.push(puts.length ? `writes slow (${range(puts)})` : 'writes time out');
    }
    for (const r of ['no-leader', 'write-failed', 'read-failed']) if (reasons.has(r)) what.push(MEMBER_WORDS[r]!);
    const agents = [...new Set(seen.problems.map((p) => p.run.node))].sort();
    const since = earliest(seen.problems.map((p) => p.run.probe.since));
    c.causes.push({
      kind: 'etcd-member',
      severity: worst,
      nodes: [],
      component: `etcd member ${name}`,
      seenBy: { agents, of: seen.observers.size },
      since,
      message: `etcd member ${name}: ${what.join(', ')}, seen by ${agents.length} of ${plural(seen.observers.size, 'agent')}`,
    });
  }
  for (const run of runs) if (accounted.get(run.node)) c.explain(run.node, 'etcd');
}

/** The component causes, and which per-node probe failures they account for. */
export function componentCauses(input: ComponentInput): ComponentCauses {
  const c = new Collector();
  etcd(input, c);
  const api = apiServer(input, c);
  unansweredRequests(input, c, api);
  scheduling(input, c, api);
  controlPlane(input, c, api);
  dns(input, c);
  return { causes: c.causes, explained: c.explained };
}
