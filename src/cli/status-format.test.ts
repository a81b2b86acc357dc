import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterStatus } from '../status/cluster-types.ts';
import { clusterExitCode, formatCluster, localExitCode } from './status-format.ts';

const probe = (name: string, verdict: 'ok' | 'warning' | 'critical') => ({ name, verdict, reason: null, message: `${name} ${verdict}`, since: null, lastRun: null, durationSeconds: null, skipped: false, observations: null });

const status: ClusterStatus = {
  observer: 'a',
  time: '2026-01-01T00:00:00.000Z',
  verdict: 'degraded',
  completeness: { nodes: 3, answered: 2, unanswered: 1, oldestAnswerSeconds: 0.2, gathered: 'direct' },
  causes: [
    { kind: 'node-down', severity: 'critical', nodes: ['c'], since: '2025-12-31T23:55:49.600Z', message: 'node c is down or isolated: unreachable from 2 of 2 observers on both networks' },
    { kind: 'probe-failing', severity: 'warning', nodes: ['b'], probes: ['dns'], since: null, message: 'b: dns warning: slow' },
  ],
  nodes: [
    { name: 'a', verdict: 'ok', answered: true, error: null, probes: [probe('node', 'ok')], unreachableFrom: { pod: [], host: [] } },
    { name: 'b', verdict: 'warning', answered: true, error: null, probes: [probe('node', 'ok'), probe('dns', 'warning')], unreachableFrom: { pod: [], host: [] } },
    { name: 'c', verdict: 'unreachable', answered: false, error: 'timeout after 1000 ms', probes: [], unreachableFrom: { pod: ['a', 'b'], host: ['a', 'b'] } },
  ],
  reachability: [],
  probesShown: 'all',
  reachabilityShown: 'all',
  partitions: [],
};

void describe('formatCluster', () => {
  void it('prints how complete the answer is, one row per node with verdict, failing probes and reachability, then the causes', () => {
    assert.equal(
      formatCluster(status),
      `cluster degraded (asked a at 2026-01-01T00:00:00.000Z)
partial: 2 of 3 nodes answered; the oldest answer is 0.2 s old

NODE  VERDICT      FAILING PROBES  REACHABILITY
a     ok           -               reachable
b     warning      dns (warning)   reachable
c     unreachable  -               unreachable from pod: a, b; host: a, b; no answer: timeout after 1000 ms

causes:
  critical  node c is down or isolated: unreachable from 2 of 2 observers on both networks — since 2025-12-31 23:55:49 UTC (4m 10s)
  warning   b: dns warning: slow — since unknown
`,
    );
  });

  void it('does not list a probe whose last run was skipped (a cordoned node) as failing', () => {
    const cordoned = { ...probe('pod-scheduling', 'critical'), skipped: true };
    const s: ClusterStatus = { ...status, nodes: [{ ...status.nodes[0]!, probes: [probe('node', 'ok'), cordoned] }] };
    assert.match(formatCluster(s), /^a +ok +- +reachable$/m);
  });

  void it('names the partition sides', () => {
    assert.match(formatCluster({ ...status, partitions: [['a', 'b'], ['c']] }), /^partition: \{a, b\} \| \{c\}$/m);
  });

  void it('exits 0 healthy, 1 degraded, 2 unknown', () => {
    assert.equal(clusterExitCode({ ...status, verdict: 'healthy' }), 0);
    assert.equal(clusterExitCode(status), 1);
    assert.equal(clusterExitCode({ ...status, verdict: 'unknown' }), 2);
    assert.equal(localExitCode({ node: 'a', verdict: 'ok', time: '', probes: [], peers: [] }), 0);
    assert.equal(localExitCode({ node: 'a', verdict: 'critical', time: '', probes: [], peers: [] }), 1);
    assert.equal(localExitCode({ node: 'a', verdict: 'unknown', time: '', probes: [], peers: [] }), 2);
  });
});
