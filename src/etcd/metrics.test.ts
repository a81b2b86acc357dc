import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { etcdMetrics } from '../metrics/metrics.ts';
import { recordEtcdMetrics } from './metrics.ts';
import type { MemberObservation } from './verdict.ts';

const answered = (member: string, memberId: string, extra: Partial<MemberObservation> = {}): MemberObservation => ({
  endpoint: `${member}.example:2379`,
  member,
  memberId,
  leader: '11',
  dbSizeBytes: 20480,
  alarms: [],
  putMs: 3,
  getMs: 1,
  ...extra,
});

/** Records the runs in a fresh registry; value() reads one sample, undefined when the series is absent. */
async function scrape(observations: MemberObservation[][], hasLeader = true): Promise<{ registry: Registry; value: (name: string, labels: Record<string, string>) => number | undefined }> {
  const registry = new Registry();
  const metrics = etcdMetrics(registry);
  const exported = new Map<string, string>();
  for (const run of observations) recordEtcdMetrics(metrics, run, hasLeader, exported);
  const all = await registry.getMetricsAsJSON();
  const value = (name: string, labels: Record<string, string>) => {
    for (const m of all) {
      for (const v of m.values as { metricName?: string; labels: Record<string, string | number>; value: number }[]) {
        if ((v.metricName ?? m.name) !== name) continue;
        if (Object.keys(labels).length === Object.keys(v.labels).length && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)) return v.value;
      }
    }
    return undefined;
  };
  return { registry, value };
}

const bucket = (member: string, operation: string, le: string) => ({ member, operation, le });

test('a put that timed out is observed as the time it waited, above the slow-write buckets, and counted as a timeout', async () => {
  const stalled = answered('etcd-b', '12', { putMs: undefined, putFailure: { kind: 'timeout', text: 'no answer within 2000 ms', waitedMs: 2001.5 } });
  const { value } = await scrape([[answered('etcd-a', '11'), stalled]]);
  const put = 'vigil_etcd_request_duration_seconds_bucket';
  assert.equal(value('vigil_etcd_request_duration_seconds_count', { member: 'etcd-b', operation: 'put' }), 1);
  assert.equal(value(put, bucket('etcd-b', 'put', '0.25')), 0, 'not under the critical threshold');
  assert.equal(value(put, bucket('etcd-b', 'put', '2.5')), 1);
  assert.equal(value(put, bucket('etcd-a', 'put', '0.005')), 1, 'the healthy member keeps its own figure');
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-b', operation: 'put', kind: 'timeout' }), 1);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'put', kind: 'timeout' }), 0);
  // The get still answered.
  assert.equal(value('vigil_etcd_request_duration_seconds_count', { member: 'etcd-b', operation: 'get' }), 1);
});

test('a get that timed out is observed the same way', async () => {
  const { value } = await scrape([[answered('etcd-a', '11', { getMs: undefined, getFailure: { kind: 'timeout', text: 'no answer within 500 ms', waitedMs: 500 } })]]);
  assert.equal(value('vigil_etcd_request_duration_seconds_bucket', bucket('etcd-a', 'get', '0.25')), 0);
  assert.equal(value('vigil_etcd_request_duration_seconds_bucket', bucket('etcd-a', 'get', '0.5')), 1);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'get', kind: 'timeout' }), 1);
});

test('a put refused for another cause is counted by kind but is no latency', async () => {
  const denied = answered('etcd-a', '11', { putMs: undefined, putFailure: { kind: 'auth', text: 'permission denied', waitedMs: 2 } });
  const { value } = await scrape([[denied], [denied], [answered('etcd-a', '11', { putMs: undefined, putFailure: { kind: 'error', text: 'etcdserver: mvcc: database space exceeded', waitedMs: 1 } })]]);
  assert.equal(value('vigil_etcd_request_duration_seconds_count', { member: 'etcd-a', operation: 'put' }), undefined, 'no put observed');
  assert.equal(value('vigil_etcd_request_duration_seconds_count', { member: 'etcd-a', operation: 'get' }), 3);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'put', kind: 'auth' }), 2);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'put', kind: 'error' }), 1);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'get', kind: 'auth' }), 0);
});

test('a put that never went out for want of a lease is counted, not timed', async () => {
  const noLease = answered('etcd-a', '11', { putMs: undefined, putFailure: { kind: 'timeout', text: 'no lease to attach the key to: no answer within 2000 ms' } });
  const { value } = await scrape([[noLease]]);
  assert.equal(value('vigil_etcd_request_duration_seconds_count', { member: 'etcd-a', operation: 'put' }), undefined, 'no put observed');
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'put', kind: 'timeout' }), 1);
});

test('every failure kind of a member that answered starts at 0', async () => {
  const { value } = await scrape([[answered('etcd-a', '11')]]);
  for (const operation of ['put', 'get']) {
    for (const kind of ['unreachable', 'timeout', 'tls', 'auth', 'error']) assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation, kind }), 0, `${operation} ${kind}`);
  }
});

test('a member that answers but knows no leader reads 0; one that knows one reads 1; one that does not answer has none', async () => {
  const { value } = await scrape([
    [answered('etcd-a', '11', { leader: '0', putMs: undefined, getMs: undefined }), answered('etcd-b', '12'), { endpoint: 'etcd-c.example:2379', member: 'etcd-c', down: { kind: 'unreachable', text: 'connection refused' } }],
  ]);
  assert.equal(value('vigil_etcd_endpoint_has_leader', { member: 'etcd-a' }), 0);
  assert.equal(value('vigil_etcd_endpoint_has_leader', { member: 'etcd-b' }), 1);
  assert.equal(value('vigil_etcd_endpoint_has_leader', { member: 'etcd-c' }), undefined);
  assert.equal(value('vigil_etcd_endpoint_up', { member: 'etcd-c' }), 0);
});

test("a member that stops answering loses its has-leader series; one that refuses the probe's TLS loses it too", async () => {
  const a = answered('etcd-a', '11');
  const down = { endpoint: a.endpoint, member: 'etcd-a', down: { kind: 'timeout' as const, text: 'no answer within 2000 ms' } };
  assert.equal((await scrape([[a], [down]])).value('vigil_etcd_endpoint_has_leader', { member: 'etcd-a' }), undefined);
  const tls = { endpoint: a.endpoint, member: 'etcd-a', down: { kind: 'tls' as const, text: 'TLS handshake failed' } };
  const refused = await scrape([[a], [tls]]);
  assert.equal(refused.value('vigil_etcd_endpoint_has_leader', { member: 'etcd-a' }), undefined);
  assert.equal(refused.value('vigil_etcd_endpoint_up', { member: 'etcd-a' }), undefined);
});

test('a member first named by its endpoint, then by its name, keeps no series under the endpoint', async () => {
  const endpoint = 'etcd-a.example:2379';
  const before = answered('etcd-a', '11', { member: endpoint, putMs: undefined, putFailure: { kind: 'timeout', text: 'no answer within 2000 ms', waitedMs: 2000 } });
  const { registry, value } = await scrape([[before], [answered('etcd-a', '11')]]);
  assert.doesNotMatch(await registry.metrics(), new RegExp(`member="${endpoint}"`));
  assert.equal(value('vigil_etcd_endpoint_has_leader', { member: 'etcd-a' }), 1);
  assert.equal(value('vigil_etcd_request_failures_total', { member: 'etcd-a', operation: 'put', kind: 'timeout' }), 0);
});
