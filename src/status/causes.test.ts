import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameCauses, type Answer, type CauseInput, type Edge } from './causes.ts';
import type { FailureKind, Network } from './cluster-types.ts';

const ok: Answer = { ok: true, verdict: 'ok', probes: [] };
const gone = (failure: FailureKind = 'timeout'): Answer => ({ ok: false, failure, error: failure });

function edge(observer: string, peer: string, network: Network, up: boolean, failure: FailureKind | null = up ? null : 'timeout', clockOffsetSeconds: number | null = up ? 0.001 : null): Edge {
  return { observer, peer, network, up, failure, clockOffsetSeconds, rttSeconds: up ? 0.001 : null };
}

/** Every node pings every other over both networks; `down(o, p, net)` says which pings fail. */
function mesh(nodes: string[], down: (o: string, p: string, n: Network) => FailureKind | null): Edge[] {
  const out: Edge[] = [];
  for (const o of nodes)
    for (const p of nodes)
      if (o !== p)
        for (const n of ['pod', 'host'] as const) {
          const f = down(o, p, n);
          out.push(edge(o, p, n, f === null, f));
        }
  return out;
}

function input(nodes: string[], answers: Record<string, Answer>, edges: Edge[], asker = nodes[0]!): CauseInput {
  return { asker, nodes, answers: new Map(Object.entries(answers)), edges, clockOffsetThresholdSeconds: 0.3 };
}

const N = ['a', 'b', 'c', 'd', 'e'];

void describe('nameCauses', () => {
  void it('names nothing for a healthy mesh', () => {
    const edges = mesh(N, () => null);
    assert.deepEqual(nameCauses(input(N, Object.fromEntries(N.map((n) => [n, ok])), edges)), { causes: [], partitions: [] });
  });

  void it('a node unreachable from most observers on both networks is down or isolated', () => {
    const edges = mesh(N, (_o, p) => (p === 'c' ? 'timeout' : null)).filter((e) => e.observer !== 'c');
    const { causes, partitions } = nameCauses(input(N, { a: ok, b: ok, c: gone(), d: ok, e: ok }, edges));
    assert.deepEqual(partitions, []);
    assert.equal(causes.length, 1);
    assert.equal(causes[0]!.kind, 'node-down');
    assert.deepEqual(causes[0]!.nodes, ['c']);
    assert.match(causes[0]!.message, /node c is down or isolated: unreachable from 4 of 4 observers on both networks/);
  });

  void it('a refused connection on a reachable host means the agent is not running', () => {
    const edges = mesh(N, (_o, p) => (p === 'c' ? 'refused' : null)).filter((e) => e.observer !== 'c');
    const { causes } = nameCauses(input(N, { a: ok, b: ok, c: gone('refused'), d: ok, e: ok }, edges));
    assert.equal(causes[0]!.kind, 'agent-down');
  });

  void it('a node unreachable from only a minority is not called down', () => {
    const edges = mesh(N, (o, p) => (p === 'c' && o === 'a' ? 'timeout' : null)).filter((e) => e.observer !== 'c');
    const { causes } = nameCauses(input(N, { a: ok, b: ok, c: gone(), d: ok, e: ok }, edges));
    assert.ok(!causes.some((x) => x.kind === 'node-down'), JSON.stringify(causes));
  });

  void it('pod path down and host path up between two nodes is the overlay broken between exactly them', () => {
    const cut = (o: string, p: string) => (o === 'a' && p === 'b') || (o === 'b' && p === 'a');
    const edges = mesh(N, (o, p, n) => (n === 'pod' && cut(o, p) ? 'timeout' : null));
    const { causes } = nameCauses(input(N, Object.fromEntries(N.map((n) => [n, ok])), edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes]),
      [['overlay-broken', ['a', 'b']]],
    );
    assert.match(causes[0]!.message, /overlay \(pod network\) broken between a and b/);
  });

  void it('a node whose overlay is broken towards every peer is named once', () => {
    const edges = mesh(N, (o, p, n) => (n === 'pod' && (o === 'c' || p === 'c') ? 'timeout' : null));
    const { causes } = nameCauses(input(N, Object.fromEntries(N.map((n) => [n, ok])), edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes]),
      [['overlay-broken', ['c']]],
    );
    assert.match(causes[0]!.message, /overlay \(pod network\) broken on c: pod path down with 4 of 4 peers \(a, b, d, e\), host path up/);
  });

  void it('host path down with pod path up is named as the host network', () => {
    const edges = mesh(N, (o, p, n) => (n === 'host' && o === 'd' && p === 'e' ? 'timeout' : null));
    const { causes } = nameCauses(input(N, Object.fromEntries(N.map((n) => [n, ok])), edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes]),
      [['host-network-broken', ['d', 'e']]],
    );
  });

  void it('a split reachability graph is a partition with both sides, seen from either side', () => {
    const A = ['a', 'b'];
    const side = (n: string) => A.includes(n);
    const edges = mesh(N, (o, p) => (side(o) !== side(p) ? 'timeout' : null));
    const fromA = nameCauses(
      input(
        N,
        { a: ok, b: ok, c: gone(), d: gone(), e: gone() },
        edges.filter((e) => side(e.observer)),
        'a',
      ),
    );
    assert.deepEqual(fromA.partitions, [
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    assert.deepEqual(
      fromA.causes.map((c) => c.kind),
      ['partition'],
    );
    assert.deepEqual(fromA.causes[0]!.sides, [
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    assert.match(fromA.causes[0]!.message, /a, b .*cannot reach c, d, e/);
    const fromD = nameCauses(
      input(
        N,
        { a: gone(), b: gone(), c: ok, d: ok, e: ok },
        edges.filter((e) => !side(e.observer)),
        'd',
      ),
    );
    assert.deepEqual(fromD.partitions, [
      ['c', 'd', 'e'],
      ['a', 'b'],
    ]);
    assert.match(fromD.causes[0]!.message, /c, d, e .*cannot reach a, b/);
  });

  void it('names the failing probes of an agent that answers', () => {
    const edges = mesh(N, () => null);
    const sick: Answer = {
      ok: true,
      verdict: 'critical',
      probes: [
        { name: 'etcd', verdict: 'critical', reason: 'timeout', message: 'etcd: no answer', since: null, lastRun: null, durationSeconds: null, skipped: false, observations: null },
        { name: 'dns', verdict: 'ok', reason: null, message: 'fine', since: null, lastRun: null, durationSeconds: null, skipped: false, observations: null },
        { name: 'node', verdict: 'warning', reason: 'filesystem-full', message: 'disk 85%', since: null, lastRun: null, durationSeconds: null, skipped: false, observations: null },
      ],
    };
    const { causes } = nameCauses(input(N, { a: ok, b: sick, c: ok, d: ok, e: ok }, edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.severity, c.nodes, c.probes]),
      [['probe-failing', 'critical', ['b'], ['etcd', 'node']]],
    );
  });

  void it('names a peer whose clock most observers find off', () => {
    const edges = mesh(N, () => null).map((e) => (e.peer === 'e' ? { ...e, clockOffsetSeconds: 0.45 } : e));
    const { causes } = nameCauses(input(N, Object.fromEntries(N.map((n) => [n, ok])), edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes]),
      [['clock-offset', ['e']]],
    );
    assert.match(causes[0]!.message, /clock of e is 0\.450 s ahead/);
  });

  void it('a node that gave a malformed answer is unknown, not down', () => {
    const edges = mesh(N, (_o, p) => (p === 'e' ? 'bad' : null));
    const { causes } = nameCauses(input(N, { a: ok, b: ok, c: ok, d: ok, e: { ok: false, failure: 'bad', error: 'malformed answer: node: expected string' } }, edges));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes]),
      [['node-unknown', ['e']]],
    );
    assert.match(causes[0]!.message, /malformed answer/);
  });
});
