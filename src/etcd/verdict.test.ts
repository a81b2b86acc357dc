import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeEtcd, type MemberObservation } from './verdict.ts';

const t = { warningMs: 100, criticalMs: 500 };
const healthy = (endpoint: string, memberId: string, extra: Partial<MemberObservation> = {}): MemberObservation => ({
  endpoint,
  memberId,
  leader: '11',
  raftTerm: '2',
  raftIndex: '40',
  dbSizeBytes: 20480,
  alarms: [],
  putMs: 3,
  getMs: 1,
  ...extra,
});
const refused = { kind: 'unreachable' as const, text: 'connection refused' };

test('healthy members are ok and the message names the leader', () => {
  const j = judgeEtcd([healthy('a:1', '11'), healthy('b:2', '12')], t);
  assert.equal(j.verdict, 'ok');
  assert.equal(j.hasLeader, true);
  assert.match(j.message, /2 of 2 member\(s\) answered; slowest put 3\.0 ms; leader a:1/);
});

test('a put above the warning threshold is a warning naming the endpoint and the figure', () => {
  const j = judgeEtcd([healthy('a:1', '11'), healthy('b:2', '12', { putMs: 412 })], t);
  assert.equal(j.verdict, 'warning');
  assert.equal(j.reason, 'slow-write');
  assert.equal(j.message, 'etcd b:2: put 412 ms > 100 ms');
});

test('a put above the critical threshold is critical; exactly at the threshold is not above it', () => {
  assert.equal(judgeEtcd([healthy('a:1', '11', { putMs: 501 })], t).verdict, 'critical');
  assert.equal(judgeEtcd([healthy('a:1', '11', { putMs: 500 })], t).verdict, 'warning');
  assert.equal(judgeEtcd([healthy('a:1', '11', { putMs: 100 })], t).verdict, 'ok');
});

test('in a cluster the leader is marked, and its slow writes come first among equals', () => {
  // A slow leader slows every member's writes; its own are the slowest to answer.
  const led = (endpoint: string, id: string, extra: Partial<MemberObservation>) => healthy(endpoint, id, { leader: '12', ...extra });
  const timedOut = { putMs: undefined, putFailure: { kind: 'timeout' as const, text: 'no answer within 225 ms' } };
  const j = judgeEtcd([led('a:1', '11', { putMs: 310 }), led('b:2', '12', timedOut), led('c:3', '13', { putMs: 305 })], t);
  assert.equal(j.message, 'etcd b:2 (leader): put failed: no answer within 225 ms; etcd a:1: put 310 ms > 100 ms; etcd c:3: put 305 ms > 100 ms');
  const warnings = judgeEtcd([led('a:1', '11', { putMs: 310 }), led('b:2', '12', { putMs: 305 })], t);
  assert.equal(warnings.message, 'etcd b:2 (leader): put 305 ms > 100 ms; etcd a:1: put 310 ms > 100 ms');
  assert.equal(judgeEtcd([healthy('a:1', '11', { leader: '11', putMs: 150 })], t).message, 'etcd a:1: put 150 ms > 100 ms', 'a lone member is not marked');
});

test('a put that times out while the cluster has a leader counts as a slow write', () => {
  const j = judgeEtcd([healthy('a:1', '11', { putMs: undefined, putFailure: { kind: 'timeout', text: 'no answer within 2000 ms' } })], t);
  assert.deepEqual([j.verdict, j.reason], ['critical', 'slow-write']);
  assert.equal(j.message, 'etcd a:1: put failed: no answer within 2000 ms');
});

test('one member down of three: that member is named, the leader is still there', () => {
  const j = judgeEtcd([healthy('a:1', '11'), { endpoint: 'b:2', down: refused }, healthy('c:3', '13')], t);
  assert.deepEqual([j.verdict, j.reason, j.hasLeader], ['critical', 'unreachable', true]);
  assert.equal(j.message, 'etcd b:2: unreachable: connection refused');
});

test('two members down of three and no leader: quorum lost, naming the members down', () => {
  const j = judgeEtcd(
    [{ endpoint: 'a:1', down: refused }, { endpoint: 'b:2', down: refused }, healthy('c:3', '13', { leader: '0', putMs: undefined, getMs: undefined, putFailure: { kind: 'timeout', text: 'x' }, getFailure: { kind: 'timeout', text: 'y' } })],
    t,
  );
  assert.deepEqual([j.verdict, j.reason, j.hasLeader], ['critical', 'quorum-lost', false]);
  assert.match(j.message, /^etcd quorum lost: 1 of 3 members reachable, none has a leader \(down: a:1, b:2\)/);
  assert.doesNotMatch(j.message, /put failed|get failed/, 'failures that follow from the lost quorum are not repeated');
});

test('every member up but none knows a leader: no-leader', () => {
  const j = judgeEtcd([healthy('a:1', '11', { leader: '0' }), healthy('b:2', '12', { leader: '0' }), healthy('c:3', '13', { leader: '0' })], t);
  assert.deepEqual([j.verdict, j.reason, j.hasLeader], ['critical', 'no-leader', false]);
});

test('one member that knows no leader while the others do is named', () => {
  const j = judgeEtcd([healthy('a:1', '11'), healthy('b:2', '12', { leader: '0', putMs: undefined, getMs: undefined }), healthy('c:3', '13')], t);
  assert.deepEqual([j.verdict, j.reason, j.hasLeader], ['critical', 'no-leader', true]);
  assert.equal(j.message, 'etcd b:2: knows no leader while other members do');
});

test('the only member down: unreachable, no leader known', () => {
  const j = judgeEtcd([{ endpoint: 'a:1', down: refused }], t);
  assert.deepEqual([j.verdict, j.reason, j.hasLeader], ['critical', 'unreachable', false]);
  assert.equal(j.message, 'etcd a:1: unreachable: connection refused');
});

test('certificate and authentication failures keep their own reasons', () => {
  const tls = judgeEtcd([{ endpoint: 'a:1', down: { kind: 'tls', text: 'TLS handshake failed: self-signed certificate' } }], t);
  assert.deepEqual([tls.reason, tls.message], ['tls', 'etcd a:1: TLS handshake failed: self-signed certificate']);
  const auth = judgeEtcd([healthy('a:1', '11', { putMs: undefined, putFailure: { kind: 'auth', text: 'permission denied' } })], t);
  assert.equal(auth.reason, 'auth');
});

test('an alarm is critical, reported once, on the endpoint of the member it is raised on', () => {
  const alarms = [{ memberId: '12', alarm: 'NOSPACE' }];
  const j = judgeEtcd([healthy('a:1', '11', { alarms }), healthy('b:2', '12', { alarms })], t);
  assert.deepEqual([j.verdict, j.reason], ['critical', 'alarm']);
  assert.equal(j.message, 'etcd b:2: alarm NOSPACE raised');
  const unknown = judgeEtcd([healthy('a:1', '11', { alarms: [{ memberId: '255', alarm: 'CORRUPT' }] })], t);
  assert.equal(unknown.message, 'etcd member ff (reported by a:1): alarm CORRUPT raised');
});

test('critical problems come before warnings in the message and give the reason', () => {
  const j = judgeEtcd([healthy('a:1', '11', { putMs: 150 }), { endpoint: 'b:2', down: refused }], t);
  assert.equal(j.reason, 'unreachable');
  assert.equal(j.message, 'etcd b:2: unreachable: connection refused; etcd a:1 (leader): put 150 ms > 100 ms');
});
