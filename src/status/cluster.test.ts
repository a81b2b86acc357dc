import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeCluster, type FanoutResult } from './cluster.ts';
import type { LocalStatusWithPeers, PeerObservation } from './cluster-types.ts';

const obs = (peer: string, network: 'pod' | 'host', up: boolean): PeerObservation => ({
  peer,
  network,
  up,
  rttSeconds: up ? 0.002 : null,
  clockOffsetSeconds: up ? 0 : null,
  lastChecked: '2026-01-01T00:00:00.000Z',
  error: up ? null : 'timeout after 2000 ms',
  failure: up ? null : 'timeout',
});
const local = (node: string, peers: PeerObservation[], verdict: LocalStatusWithPeers['verdict'] = 'ok'): FanoutResult => ({ ok: true, status: { node, verdict, time: '', probes: [], peers } });

void describe('mergeCluster', () => {
  void it('lists every node once, with its verdict and who cannot reach it on which network', () => {
    const results = new Map<string, FanoutResult>([
      ['a', local('a', [obs('b', 'pod', true), obs('c', 'pod', false), obs('c', 'host', false)])],
      ['b', local('b', [obs('a', 'pod', true), obs('c', 'pod', false), obs('c', 'host', true)])],
      ['c', { ok: false, failure: 'timeout', error: 'timeout after 1000 ms' }],
    ]);
    const s = mergeCluster({ asker: 'a', time: Date.UTC(2026, 0, 1), nodes: ['a', 'b', 'c'], results, clockOffsetThresholdSeconds: 0.3 });
    assert.equal(s.observer, 'a');
    assert.equal(s.time, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.verdict, n.answered, n.error]),
      [
        ['a', 'ok', true, null],
        ['b', 'ok', true, null],
        ['c', 'unreachable', false, 'timeout after 1000 ms'],
      ],
    );
    assert.deepEqual(s.nodes[2]!.unreachableFrom, { pod: ['a', 'b'], host: ['a'] });
    assert.equal(s.reachability.length, 6);
    assert.deepEqual(s.reachability[0], { observer: 'a', peer: 'b', network: 'pod', up: true, rttSeconds: 0.002 });
    assert.equal(s.verdict, 'degraded');
  });

  void it('adds nodes only peers know of, and is unknown when a node cannot be judged', () => {
    const results = new Map<string, FanoutResult>([['a', local('a', [obs('z', 'pod', true)])]]);
    const s = mergeCluster({ asker: 'a', time: 0, nodes: ['a', 'b'], results, clockOffsetThresholdSeconds: 0.3 });
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.error]),
      [
        ['a', null],
        ['b', 'not asked'],
        ['z', 'not asked'],
      ],
    );
    assert.equal(s.verdict, 'unknown');
    assert.deepEqual(
      s.causes.map((c) => c.kind),
      ['node-unknown', 'node-unknown'],
    );
  });

  void it('is healthy when every node answers ok and every ping got through', () => {
    const results = new Map<string, FanoutResult>([
      ['a', local('a', [obs('b', 'pod', true)])],
      ['b', local('b', [obs('a', 'pod', true)])],
    ]);
    const s = mergeCluster({ asker: 'b', time: 0, nodes: ['a', 'b'], results, clockOffsetThresholdSeconds: 0.3 });
    assert.equal(s.verdict, 'healthy');
    assert.deepEqual(s.causes, []);
    assert.deepEqual(s.partitions, []);
  });
});

void describe('mergeCluster at scale', () => {
  const big = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `n${String(i).padStart(4, '0')}`);
    const results = new Map<string, FanoutResult>();
    names.forEach((name, i) => {
      if (i === 0) return; // n0000 is silent
      results.set(name, local(name, [obs(names[(i + 1) % n]!, 'pod', i !== n - 1), obs(names[(i + 2) % n]!, 'pod', true)]));
    });
    results.set('n0000', { ok: false, failure: 'timeout', error: "not asked: down in this agent's pings since 2026-01-01T00:00:00.000Z (timeout after 2000 ms)", asked: false, downSince: '2026-01-01T00:00:00.000Z' });
    return { names, results };
  };

  void it('carries only the edges that are down above 100 nodes, unless every edge is asked for', () => {
    const { names, results } = big(150);
    const s = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3 });
    assert.equal(s.reachabilityShown, 'down');
    assert.deepEqual(
      s.reachability.map((e) => [e.observer, e.peer, e.up]),
      [['n0149', 'n0000', false]],
    );
    const all = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3, allEdges: true });
    assert.equal(all.reachabilityShown, 'all');
    assert.equal(all.reachability.length, 149 * 2);
  });

  void it('above 1,000 nodes lists no edges and no probes of ok nodes, unless asked for, and stays under 1 MB at 5,000', () => {
    const { names, results } = big(5000);
    const probe = (verdict: 'ok' | 'critical') => ({
      name: 'etcd',
      verdict,
      reason: verdict === 'ok' ? null : 'error',
      message: `etcd ${verdict}`,
      since: '2026-01-01T00:00:00.000Z',
      lastRun: '2026-01-01T00:00:00.000Z',
      durationSeconds: null,
      skipped: false,
      observations: null,
    });
    for (const [name, r] of results) if (r.ok) r.status.probes = [probe(name === 'n0007' ? 'critical' : 'ok')];
    (results.get('n0007') as { status: LocalStatusWithPeers }).status.verdict = 'critical';
    const s = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3 });
    assert.equal(s.reachabilityShown, 'none');
    assert.deepEqual(s.reachability, []);
    assert.equal(s.probesShown, 'not-ok');
    // who cannot reach the silent node is still said, on the node
    assert.deepEqual(s.nodes[0]!.unreachableFrom, { pod: ['n4999'], host: [] });
    assert.deepEqual(
      s.nodes.filter((n) => n.probes.length > 0).map((n) => [n.name, n.probes[0]!.verdict]),
      [['n0007', 'critical']],
    );
    assert.ok(JSON.stringify(s).length < 1_000_000, `${JSON.stringify(s).length} bytes`);
    const all = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3, allEdges: true, fullProbes: true });
    assert.equal(all.probesShown, 'all');
    assert.equal(all.nodes.filter((n) => n.probes.length > 0).length, 4999);
    assert.equal(all.reachability.length, 4999 * 2);
  });

  void it('carries every edge in a small cluster', () => {
    const { names, results } = big(20);
    const s = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3 });
    assert.equal(s.reachabilityShown, 'all');
    assert.equal(s.reachability.length, 19 * 2);
  });

  void it("marks a node answered for from the asking agent's own pings", () => {
    const { names, results } = big(20);
    const s = mergeCluster({ asker: 'n0001', time: 0, nodes: names, results, clockOffsetThresholdSeconds: 0.3 });
    const n0 = s.nodes.find((n) => n.name === 'n0000')!;
    assert.equal(n0.answered, false);
    assert.equal(n0.downSince, '2026-01-01T00:00:00.000Z');
    assert.match(n0.error!, /^not asked: down in this agent's pings/);
    assert.deepEqual(n0.unreachableFrom.pod, ['n0019']);
  });
});

void describe('mergeCluster probe detail', () => {
  const probe = (name: string, verdict: 'ok' | 'critical') => ({
    name,
    verdict,
    reason: verdict === 'ok' ? null : 'error',
    message: `${name} says so`,
    since: 'S',
    lastRun: 'L',
    durationSeconds: 0.1,
    skipped: false,
    observations: { ms: 1 },
  });
  const withProbes = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `n${String(i).padStart(4, '0')}`);
    const results = new Map<string, FanoutResult>(names.map((name) => [name, { ok: true, status: { node: name, verdict: 'critical', time: '', probes: [probe('etcd', 'ok'), probe('dns', 'critical')], peers: [] } }]));
    return { names, results };
  };

  void it('lists probes without figures, and above 100 nodes an ok probe without its message', () => {
    const small = withProbes(3);
    const s = mergeCluster({ asker: 'n0000', time: 0, nodes: small.names, results: small.results, clockOffsetThresholdSeconds: 0.3 });
    assert.deepEqual(s.nodes[0]!.probes[0], { name: 'etcd', verdict: 'ok', reason: null, message: 'etcd says so', since: 'S', lastRun: 'L', skipped: false });
    const big = withProbes(101);
    const b = mergeCluster({ asker: 'n0000', time: 0, nodes: big.names, results: big.results, clockOffsetThresholdSeconds: 0.3 });
    assert.deepEqual(b.nodes[0]!.probes, [
      { name: 'etcd', verdict: 'ok', since: 'S', lastRun: 'L', skipped: false },
      { name: 'dns', verdict: 'critical', reason: 'error', message: 'dns says so', since: 'S', lastRun: 'L', skipped: false },
    ]);
    const full = mergeCluster({ asker: 'n0000', time: 0, nodes: big.names, results: big.results, clockOffsetThresholdSeconds: 0.3, fullProbes: true });
    assert.deepEqual(full.nodes[0]!.probes[0], probe('etcd', 'ok'));
  });
});
