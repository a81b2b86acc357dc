import type { FailureKind, Network } from './cluster-types.ts';
import type { StatusVerdict } from '../verdict.ts';
import type { ProbeStatus } from './local.ts';
import { byCodeUnit } from '../compare.ts';
import { mostLinksBroken } from './consensus.ts';
import { earliest } from './when.ts';

/**
 * The reachability graph: who pings whom over which network, and what it says of each node and
 * link (a node down or cut off, links broken on one network, the groups that reach each other).
 */

/** One agent's last ping of one peer over one network (an edge of the reachability graph). */
export interface Edge {
  observer: string;
  peer: string;
  network: Network;
  up: boolean;
  failure: FailureKind | null;
  clockOffsetSeconds: number | null;
  rttSeconds: number | null;
  /** Milliseconds since the epoch: when the observer saw the peer enter this up/down state; null when unknown. */
  since?: number | null;
  /** Milliseconds since the epoch: since when the observer has found the peer's clock off; null while it is not. */
  clockOffSince?: number | null;
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

/** The edges by the node they observe, built once: every per-node question is then linear in its observers. */
export type EdgeIndex = ReadonlyMap<string, readonly Edge[]>;

export function indexByPeer(edges: readonly Edge[]): Map<string, Edge[]> {
  const out = new Map<string, Edge[]>();
  for (const e of edges) {
    const l = out.get(e.peer);
    if (l) l.push(e);
    else out.set(e.peer, [e]);
  }
  return out;
}

const PATH_BROKEN: ReadonlySet<FailureKind | null> = new Set(['timeout', 'unreachable']);

/** Per observer of a node: whether each network it tried was up. */
export function observersOf(node: string, byPeer: EdgeIndex): Map<string, Partial<Record<Network, Edge>>> {
  const out = new Map<string, Partial<Record<Network, Edge>>>();
  for (const e of byPeer.get(node) ?? []) {
    const o = out.get(e.observer) ?? {};
    o[e.network] = e;
    out.set(e.observer, o);
  }
  return out;
}

export type Lost = { node: string; how: 'refused' | 'path'; lostBy: number; observers: number; since: number | null };

/**
 * A node that did not answer and that most of its observers cannot reach on any network.
 * "refused" when the hosts answered but no agent listens; "path" when the packets go nowhere.
 * The asker's own failed request counts as one more observer, so a node nobody else watches
 * is still judged.
 */
export function lostNode(node: string, input: CauseInput, byPeer: EdgeIndex = indexByPeer(input.edges)): Lost | undefined {
  const answer = input.answers.get(node);
  if (!answer || answer.ok) return undefined;
  const obs = observersOf(node, byPeer);
  const since: (number | null | undefined)[] = [];
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
      since.push(...tried.map((e) => e.since));
    }
  }
  if (!obs.has(input.asker) && answer.asked !== false) {
    total++;
    if (answer.failure === 'refused' || PATH_BROKEN.has(answer.failure)) lost++;
    if (answer.failure === 'refused') refused++;
  }
  if (lost * 2 <= total) return undefined;
  return { node, how: refused * 2 > lost ? 'refused' : 'path', lostBy: lost, observers: total, since: earliest(since) };
}

/** Pairs whose pod path is down while the host path is up (overlay), or the reverse; with since when, per pair. */
export function brokenLinks(edges: readonly Edge[], broken: Network): { pairs: [string, string][]; since: Map<string, number | null> } {
  const other: Network = broken === 'pod' ? 'host' : 'pod';
  // only an (observer, peer) with an edge down on this network can be a broken pair: the pairs are
  // keyed for those alone (the common case, nothing down, costs one pass and no allocation)
  const downTo = new Map<string, Set<string>>();
  for (const e of edges) if (e.network === broken && !e.up) (downTo.get(e.observer) ?? downTo.set(e.observer, new Set()).get(e.observer)!).add(e.peer);
  if (downTo.size === 0) return { pairs: [], since: new Map() };
  const byPair = new Map<string, Partial<Record<Network, Edge>>>();
  for (const e of edges) {
    if (!downTo.get(e.observer)?.has(e.peer)) continue;
    const key = `${e.observer}\0${e.peer}`;
    const nets = byPair.get(key);
    if (nets) nets[e.network] = e;
    else byPair.set(key, { [e.network]: e });
  }
  const pairs = new Map<string, [string, string]>();
  const since = new Map<string, number | null>();
  for (const nets of byPair.values()) {
    const b = nets[broken];
    const o = nets[other];
    if (!b || !o || b.up || !o.up) continue;
    const pair = [b.observer, b.peer].sort() as [string, string];
    const key = pair.join('\0');
    pairs.set(key, pair);
    since.set(key, earliest([since.get(key), b.since]));
  }
  return { pairs: [...pairs.values()].sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1])), since };
}

/** A max-heap of nodes by how many broken pairs they still have, ties by name; stale entries are skipped when popped. */
class CountHeap {
  readonly #a: [number, string][] = [];
  #before = (x: [number, string], y: [number, string]) => x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  push(v: [number, string]): void {
    const a = this.#a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): [number, string] | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.#before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A node whose link is broken with most of the peers it has links with (and more than one) is
 * named once, "broken on X", instead of once per pair; the other pairs stay pairs. Greedy, the
 * node with most broken pairs first: O(pairs · log nodes).
 */
export function groupByNode(pairs: readonly [string, string][], edges: readonly Edge[], network: Network): { nodes: { node: string; partners: string[]; of: number }[]; pairs: [string, string][] } {
  if (pairs.length === 0) return { nodes: [], pairs: [] };
  const partnersOf = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const s = partnersOf.get(x);
      if (s) s.add(y);
      else partnersOf.set(x, new Set([y]));
    }
  }
  // the peers each node of a broken pair has links with, either way
  const linked = new Map<string, Set<string>>([...partnersOf.keys()].map((n) => [n, new Set<string>()]));
  for (const e of edges) {
    if (e.network !== network) continue;
    linked.get(e.observer)?.add(e.peer);
    linked.get(e.peer)?.add(e.observer);
  }
  const heap = new CountHeap();
  for (const [n, ps] of partnersOf) heap.push([ps.size, n]);
  const taken = new Set<string>();
  const nodes: { node: string; partners: string[]; of: number }[] = [];
  for (let top = heap.pop(); top; top = heap.pop()) {
    const [count, node] = top;
    const ps = partnersOf.get(node)!;
    if (taken.has(node) || count !== ps.size) continue; // stale
    // counts only fall, so the first node that does not qualify ends the grouping
    if (!mostLinksBroken(ps.size, linked.get(node)?.size ?? 0)) break;
    taken.add(node);
    nodes.push({ node, partners: [...ps].sort(), of: linked.get(node)?.size ?? ps.size });
    for (const p of ps) {
      const qs = partnersOf.get(p)!;
      qs.delete(node);
      if (!taken.has(p)) heap.push([qs.size, p]);
    }
  }
  return { nodes, pairs: pairs.filter(([a, b]) => !taken.has(a) && !taken.has(b)) };
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

export const pairKey = (a: string, b: string) => [a, b].sort().join('\0');
