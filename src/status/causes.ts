import type { Cause } from './cluster-types.ts';
import type { ProbeStatus } from './local.ts';
import { componentCauses } from './components.ts';
import { clockCauses } from './clock.ts';
import { brokenLinks, groupByNode, indexByPeer, lostNode, pairKey, reachComponents, type CauseInput, type EdgeIndex, type Lost } from './reachability.ts';
import { earliest, earliestIso, iso } from './when.ts';

export { indexByPeer, type Answer, type CauseInput, type Edge } from './reachability.ts';

const list = (xs: readonly string[]) => xs.join(', ');

/** Names what is wrong, worst first. Pure: the same input always gives the same causes. Linear in the edges. */
export function nameCauses(input: CauseInput, byPeer: EdgeIndex = indexByPeer(input.edges)): { causes: Cause[]; partitions: string[][] } {
  const causes: Cause[] = [];
  const lost = input.nodes.map((n) => lostNode(n, input, byPeer)).filter((l): l is Lost => l !== undefined);
  const cutOff = lost.filter((l) => l.how === 'path').map((l) => l.node);
  const ours = reachComponents(input).find((c) => c.includes(input.asker)) ?? [input.asker];
  const oursSet = new Set(ours);
  let partitions: string[][] = [];
  const farSide = cutOff.filter((n) => !oursSet.has(n)).sort();
  const farSet = new Set(farSide);
  if (farSide.length >= 2) {
    partitions = [ours, farSide];
    causes.push({
      kind: 'partition',
      severity: 'critical',
      nodes: [...ours, ...farSide].sort(),
      sides: partitions,
      since: iso(earliest(lost.filter((l) => farSet.has(l.node)).map((l) => l.since))),
      message: `network partition: ${list(ours)} (the side answering) cannot reach ${list(farSide)} on any network; those nodes may also be down`,
    });
  }
  for (const l of lost) {
    if (l.how === 'path' && farSide.length >= 2 && farSet.has(l.node)) continue;
    const since = iso(l.since);
    causes.push(
      l.how === 'refused'
        ? { kind: 'agent-down', severity: 'critical', nodes: [l.node], since, message: `agent on ${l.node} is not running: its host refuses connections (${l.lostBy} of ${l.observers} observers)` }
        : { kind: 'node-down', severity: 'critical', nodes: [l.node], since, message: `node ${l.node} is down or isolated: unreachable from ${l.lostBy} of ${l.observers} observers on both networks` },
    );
  }
  const lostSet = new Set(lost.map((l) => l.node));
  for (const [network, kind, severity, words] of [
    ['pod', 'overlay-broken', 'critical', { what: 'overlay (pod network)', down: 'pod path down', up: 'host path up' }],
    ['host', 'host-network-broken', 'warning', { what: 'host network', down: 'host path down', up: 'pod path up' }],
  ] as const) {
    const broken = brokenLinks(input.edges, network);
    const g = groupByNode(
      broken.pairs.filter(([a, b]) => !lostSet.has(a) && !lostSet.has(b)),
      input.edges,
      network,
    );
    for (const n of g.nodes) {
      const since = iso(earliest(n.partners.map((p) => broken.since.get(pairKey(n.node, p)))));
      causes.push({ kind, severity, nodes: [n.node], since, message: `${words.what} broken on ${n.node}: ${words.down} with ${n.partners.length} of ${n.of} peers (${list(n.partners)}), ${words.up}` });
    }
    for (const [a, b] of g.pairs) {
      causes.push({ kind, severity, nodes: [a, b], since: iso(broken.since.get(pairKey(a, b))), message: `${words.what} broken between ${a} and ${b}: ${words.down}, ${words.up}` });
    }
  }
  const probes = new Map<string, readonly ProbeStatus[]>();
  for (const node of input.nodes) {
    const a = input.answers.get(node);
    if (a?.ok) probes.set(node, a.probes);
  }
  const shared = componentCauses({ probes });
  causes.push(...shared.causes);
  for (const [node, ps] of probes) {
    const explained = shared.explained.get(node);
    const failing = ps.filter((p) => !p.skipped && (p.verdict === 'warning' || p.verdict === 'critical') && !explained?.has(p.name));
    if (failing.length === 0) continue;
    causes.push({
      kind: 'probe-failing',
      severity: failing.some((p) => p.verdict === 'critical') ? 'critical' : 'warning',
      nodes: [node],
      probes: failing.map((p) => p.name),
      since: earliestIso(failing.map((p) => p.since)),
      message: `${node}: ${failing.map((p) => `${p.name} ${p.verdict}: ${p.message}`).join('; ')}`,
    });
  }
  causes.push(...clockCauses(input, byPeer));
  for (const node of input.nodes) {
    const a = input.answers.get(node);
    if (lostSet.has(node) || (a?.ok && (a.verdict !== 'unknown' || a.probes.length === 0))) continue;
    if (farSet.has(node)) continue;
    const why = !a ? 'no answer' : a.ok ? 'no probe has reported yet' : a.asked === false ? "known only from its peers' pings, not asked" : `its agent did not answer usefully (${a.error})`;
    const since = a && !a.ok ? iso(earliest((byPeer.get(node) ?? []).filter((e) => !e.up).map((e) => e.since))) : null;
    causes.push({ kind: 'node-unknown', severity: 'warning', nodes: [node], since, message: `state of ${node} unknown: ${why}` });
  }
  const rank = (c: Cause) => (c.severity === 'critical' ? 0 : 1);
  causes.sort((x, y) => rank(x) - rank(y));
  return { causes, partitions };
}
