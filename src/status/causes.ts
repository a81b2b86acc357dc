import type { Cause, FailureKind, Network } from './cluster-types.ts';
import type { StatusVerdict } from '../verdict.ts';
import type { ProbeStatus } from './local.ts';

/** One agent's last ping of one peer over one network (an edge of the reachability graph). */
export interface Edge {
  observer: string;
  peer: string;
  network: Network;
  up: boolean;
  failure: FailureKind | null;
  clockOffsetSeconds: number | null;
  rttSeconds: number | null;
}

/** What the asking agent got from one node's agent. */
/** `asked: false`: a node known only from its peers' observations, which the asker did not ask. */
export type Answer = { ok: true; verdict: StatusVerdict; probes: ProbeStatus[] } | { ok: false; failure: FailureKind; error: string; asked?: boolean };

export interface CauseInput {
  /** The node whose agent is asked. */
  asker: string;
  /** Every known node, the asker included. */
  nodes: readonly string[];
  answers: ReadonlyMap<string, Answer>;
  edges: readonly Edge[];
  clockOffsetThresholdSeconds: number;
}

const PATH_BROKEN: ReadonlySet<FailureKind | null> = new Set(['timeout', 'unreachable']);
const list = (xs: readonly string[]) => xs.join(', ');

/** Per observer of a node: whether each network it tried was up. */
export function observersOf(node: string, edges: readonly Edge[]): Map<string, Partial<Record<Network, Edge>>> {
  const out = new Map<string, Partial<Record<Network, Edge>>>();
  for (const e of edges) {
    if (e.peer !== node) continue;
    const o = out.get(e.observer) ?? {};
    o[e.network] = e;
    out.set(e.observer, o);
  }
  return out;
}

type Lost = { node: string; how: 'refused' | 'path'; lostBy: number; observers: number };

/**
 * A node that did not answer and that most of its observers cannot reach on any network.
 * "refused" when the hosts answered but no agent listens; "path" when the packets go nowhere.
 * The asker's own failed request counts as one more observer, so a node nobody else watches
 * is still judged.
 */
export function lostNode(node: string, input: CauseInput): Lost | undefined {
  const answer = input.answers.get(node);
  if (!answer || answer.ok) return undefined;
  const obs = observersOf(node, input.edges);
  let lost = 0;
  let refused = 0;
  let total = 0;
  for (const [observer, nets] of obs) {
    if (observer === node) continue;
    const tried = Object.values(nets);
    if (tried.length === 0) continue;
    total++;
    // an answer that was refused or went nowhere; an unusable answer means the path works
    if (tried.every((e) => !e.up && (e.failure === null || e.failure === 'refused' || PATH_BROKEN.has(e.failure)))) {
      lost++;
      if (tried.some((e) => e.failure === 'refused')) refused++;
    }
  }
  if (!obs.has(input.asker) && answer.asked !== false) {
    total++;
    if (answer.failure === 'refused' || PATH_BROKEN.has(answer.failure)) lost++;
    if (answer.failure === 'refused') refused++;
  }
  if (lost * 2 <= total) return undefined;
  return { node, how: refused * 2 > lost ? 'refused' : 'path', lostBy: lost, observers: total };
}

/** Pairs whose pod path is down while the host path is up (overlay), or the reverse. */
export function brokenLinks(edges: readonly Edge[], broken: Network): [string, string][] {
  const other: Network = broken === 'pod' ? 'host' : 'pod';
  const byPair = new Map<string, Partial<Record<Network, Edge>>>();
  for (const e of edges) {
    const key = `${e.observer}\0${e.peer}`;
    byPair.set(key, { ...byPair.get(key), [e.network]: e });
  }
  const pairs = new Map<string, [string, string]>();
  for (const nets of byPair.values()) {
    const b = nets[broken];
    const o = nets[other];
    if (!b || !o || b.up || !o.up) continue;
    const pair = [b.observer, b.peer].sort() as [string, string];
    pairs.set(pair.join('\0'), pair);
  }
  return [...pairs.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/**
 * A node whose link is broken with most of the peers it has links with (and more than one) is
 * named once, "broken on X", instead of once per pair; the other pairs stay pairs.
 */
export function groupByNode(pairs: readonly [string, string][], edges: readonly Edge[], network: Network): { nodes: { node: string; partners: string[]; of: number }[]; pairs: [string, string][] } {
  const linked = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.network !== network) continue;
    for (const [x, y] of [[e.observer, e.peer], [e.peer, e.observer]] as const) linked.set(x, (linked.get(x) ?? new Set()).add(y));
  }
  let left = [...pairs];
  const nodes: { node: string; partners: string[]; of: number }[] = [];
  for (;;) {
    const count = new Map<string, string[]>();
    for (const [a, b] of left) {
      count.set(a, [...(count.get(a) ?? []), b]);
      count.set(b, [...(count.get(b) ?? []), a]);
    }
    const best = [...count].filter(([n, ps]) => ps.length >= 2 && ps.length * 2 > (linked.get(n)?.size ?? 0)).sort((x, y) => y[1].length - x[1].length || x[0].localeCompare(y[0]))[0];
    if (!best) break;
    const [node, partners] = best;
    nodes.push({ node, partners: partners.sort(), of: linked.get(node)?.size ?? partners.length });
    left = left.filter(([a, b]) => a !== node && b !== node);
  }
  return { nodes, pairs: left };
}

/** Connected components of the "reaches" graph: a ping that got through, or a fan-out answer to the asker. */
export function reachComponents(input: CauseInput): string[][] {
  const adj = new Map<string, Set<string>>(input.nodes.map((n) => [n, new Set<string>()]));
  const link = (a: string, b: string) => {
    if (!adj.has(a)) adj.set(a, new Set());
    if (!adj.has(b)) adj.set(b, new Set());
    adj.get(a)!.add(b);
    adj.get(b)!.add(a);
  };
  for (const e of input.edges) if (e.up) link(e.observer, e.peer);
  for (const [node, a] of input.answers) if (a.ok && node !== input.asker) link(input.asker, node);
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const start of [...adj.keys()].sort()) {
    if (seen.has(start)) continue;
    const comp: string[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length) {
      const n = stack.pop()!;
      comp.push(n);
      for (const m of adj.get(n)!) {
        if (seen.has(m)) continue;
        seen.add(m);
        stack.push(m);
      }
    }
    out.push(comp.sort());
  }
  return out;
}

/** Names what is wrong, worst first. Pure: the same input always gives the same causes. */
export function nameCauses(input: CauseInput): { causes: Cause[]; partitions: string[][] } {
  const causes: Cause[] = [];
  const lost = input.nodes.map((n) => lostNode(n, input)).filter((l): l is Lost => l !== undefined);
  const cutOff = lost.filter((l) => l.how === 'path').map((l) => l.node);
  const ours = reachComponents(input).find((c) => c.includes(input.asker)) ?? [input.asker];
  let partitions: string[][] = [];
  const farSide = cutOff.filter((n) => !ours.includes(n)).sort();
  if (farSide.length >= 2) {
    partitions = [ours, farSide];
    causes.push({
      kind: 'partition',
      severity: 'critical',
      nodes: [...ours, ...farSide].sort(),
      sides: partitions,
      message: `network partition: ${list(ours)} (the side answering) cannot reach ${list(farSide)} on any network; those nodes may also be down`,
    });
  }
  for (const l of lost) {
    if (l.how === 'path' && farSide.length >= 2 && farSide.includes(l.node)) continue;
    causes.push(
      l.how === 'refused'
        ? { kind: 'agent-down', severity: 'critical', nodes: [l.node], message: `agent on ${l.node} is not running: its host refuses connections (${l.lostBy} of ${l.observers} observers)` }
        : { kind: 'node-down', severity: 'critical', nodes: [l.node], message: `node ${l.node} is down or isolated: unreachable from ${l.lostBy} of ${l.observers} observers on both networks` },
    );
  }
  const lostSet = new Set(lost.map((l) => l.node));
  const overlay = groupByNode(brokenLinks(input.edges, 'pod').filter(([a, b]) => !lostSet.has(a) && !lostSet.has(b)), input.edges, 'pod');
  for (const g of overlay.nodes) {
    causes.push({ kind: 'overlay-broken', severity: 'critical', nodes: [g.node], message: `overlay (pod network) broken on ${g.node}: pod path down with ${g.partners.length} of ${g.of} peers (${list(g.partners)}), host path up` });
  }
  for (const [a, b] of overlay.pairs) {
    causes.push({ kind: 'overlay-broken', severity: 'critical', nodes: [a, b], message: `overlay (pod network) broken between ${a} and ${b}: pod path down, host path up` });
  }
  const host = groupByNode(brokenLinks(input.edges, 'host').filter(([a, b]) => !lostSet.has(a) && !lostSet.has(b)), input.edges, 'host');
  for (const g of host.nodes) {
    causes.push({ kind: 'host-network-broken', severity: 'warning', nodes: [g.node], message: `host network broken on ${g.node}: host path down with ${g.partners.length} of ${g.of} peers (${list(g.partners)}), pod path up` });
  }
  for (const [a, b] of host.pairs) {
    causes.push({ kind: 'host-network-broken', severity: 'warning', nodes: [a, b], message: `host network broken between ${a} and ${b}: host path down, pod path up` });
  }
  for (const node of input.nodes) {
    const a = input.answers.get(node);
    if (!a?.ok) continue;
    const failing = a.probes.filter((p) => !p.skipped && (p.verdict === 'warning' || p.verdict === 'critical'));
    if (failing.length === 0) continue;
    causes.push({
      kind: 'probe-failing',
      severity: failing.some((p) => p.verdict === 'critical') ? 'critical' : 'warning',
      nodes: [node],
      probes: failing.map((p) => p.name),
      message: `${node}: ${failing.map((p) => `${p.name} ${p.verdict}: ${p.message}`).join('; ')}`,
    });
  }
  causes.push(...clockCauses(input));
  for (const node of input.nodes) {
    const a = input.answers.get(node);
    if (lostSet.has(node) || (a?.ok && (a.verdict !== 'unknown' || a.probes.length === 0))) continue;
    if (farSide.includes(node)) continue;
    const why = !a ? 'no answer' : a.ok ? 'no probe has reported yet' : a.asked === false ? 'known only from its peers\' pings, not asked' : `its agent did not answer usefully (${a.error})`;
    causes.push({ kind: 'node-unknown', severity: 'warning', nodes: [node], message: `state of ${node} unknown: ${why}` });
  }
  const rank = (c: Cause) => (c.severity === 'critical' ? 0 : 1);
  causes.sort((x, y) => rank(x) - rank(y));
  return { causes, partitions };
}

/** A peer whose clock most of its observers find off by more than the threshold. */
function clockCauses(input: CauseInput): Cause[] {
  const byPeer = new Map<string, number[]>();
  for (const e of input.edges) {
    if (e.clockOffsetSeconds === null || !e.up) continue;
    byPeer.set(e.peer, [...(byPeer.get(e.peer) ?? []), e.clockOffsetSeconds]);
  }
  const out: Cause[] = [];
  for (const [peer, offsets] of [...byPeer].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...offsets].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    if (Math.abs(median) <= input.clockOffsetThresholdSeconds) continue;
    out.push({
      kind: 'clock-offset',
      severity: 'warning',
      nodes: [peer],
      message: `clock of ${peer} is ${Math.abs(median).toFixed(3)} s ${median > 0 ? 'ahead of' : 'behind'} its observers (threshold ${input.clockOffsetThresholdSeconds} s)`,
    });
  }
  return out;
}
