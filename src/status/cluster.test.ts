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
    assert.deepEqual(s.nodes.map((n) => [n.name, n.verdict, n.answered, n.error]), [
      ['a', 'ok', true, null],
      ['b', 'ok', true, null],
      ['c', 'unreachable', false, 'timeout after 1000 ms'],
    ]);
    assert.deepEqual(s.nodes[2]!.unreachableFrom, { pod: ['a', 'b'], host: ['a'] });
    assert.equal(s.reachability.length, 6);
    assert.deepEqual(s.reachability[0], { observer: 'a', peer: 'b', network: 'pod', up: true, rttSeconds: 0.002 });
    assert.equal(s.verdict, 'degraded');
  });

  void it('adds nodes only peers know of, and is unknown when a node cannot be judged', () => {
    const results = new Map<string, FanoutResult>([['a', local('a', [obs('z', 'pod', true)])]]);
    const s = mergeCluster({ asker: 'a', time: 0, nodes: ['a', 'b'], results, clockOffsetThresholdSeconds: 0.3 });
    assert.deepEqual(s.nodes.map((n) => [n.name, n.error]), [['a', null], ['b', 'not asked'], ['z', 'not asked']]);
    assert.equal(s.verdict, 'unknown');
    assert.deepEqual(s.causes.map((c) => c.kind), ['node-unknown', 'node-unknown']);
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
