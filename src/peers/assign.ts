import { createHash } from 'node:crypto';

/**
 * Which peers an agent pings: a bounded mesh of k rendezvous-ordered rings.
 *
 * Ring r orders every node by the score hash(r, node) (the same order on every agent, since
 * every agent knows the same names); each node pings its successor on each ring. Every node
 * therefore pings k peers and is pinged by k observers (a little less where two rings give the
 * same pair, which is replaced by the next successor), per-agent cost is O(k), and a node joining
 * or leaving changes one edge per ring instead of reshuffling the mesh, unlike the plain
 * "top-k by score per observer" rendezvous choice, whose in-degree spreads binomially.
 */
export function assignPeers(self: string, nodes: Iterable<string>, k: number): string[] {
  const all = [...new Set(nodes)];
  if (!all.includes(self)) all.push(self);
  const others = all.filter((n) => n !== self);
  if (others.length <= k) return others.sort();
  const chosen = new Set<string>();
  for (let r = 0; r < k; r++) {
    const ring = orderRing(r, all);
    const at = ring.indexOf(self);
    for (let step = 1; step < ring.length; step++) {
      const next = ring[(at + step) % ring.length]!;
      if (!chosen.has(next)) {
        chosen.add(next);
        break;
      }
    }
  }
  return [...chosen].sort();
}

/** Every node's targets at once (tests and benchmarks; an agent only needs its own). */
export function assignAll(nodes: readonly string[], k: number): Map<string, string[]> {
  return new Map(nodes.map((n) => [n, assignPeers(n, nodes, k)]));
}

function orderRing(round: number, nodes: readonly string[]): string[] {
  const scored = nodes.map((n) => ({ n, s: score(round, n) }));
  scored.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.n < b.n ? -1 : 1));
  return scored.map((x) => x.n);
}

export function score(round: number, node: string): bigint {
  return createHash('sha1').update(`${round}\0${node}`).digest().readBigUInt64BE(0);
}
