import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { slowDisk, startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { sample, startEtcdAgent, waitFor, type EtcdAgent } from './support/etcd-agent.ts';

// One etcd member and one agent for the whole file; the tests run in order and share them.
let etcd: EtcdCluster;
let agent: EtcdAgent;
let ep: string;
let pid = 0;

before(async () => {
  etcd = await startEtcdCluster(1);
  ep = etcd.endpoints[0]!;
  agent = await startEtcdAgent({ endpoints: [ep], interval: '2200ms', timeout: '1900ms', requestTimeout: '600ms', leaseTTL: '5s' });
});

after(async () => {
  await agent?.stop();
  await etcd?.stop();
});

const verdictIs =
  (...want: string[]) =>
  async () => {
    const s = await agent.etcdStatus();
    return want.includes(s.verdict) ? s : undefined;
  };
const lastStatus = async () => JSON.stringify(await agent.etcdStatus());

test('a healthy member: ok, with its metrics and a key under the prefix attached to a lease', async () => {
  const s = await waitFor('an ok verdict', verdictIs('ok'), 20_000, lastStatus);
  assert.match(s.message, new RegExp(`1 of 1 member\\(s\\) answered; slowest put [\\d.]+ ms; leader ${ep.replace(/\./g, '\\.')}`));
  const text = await agent.scrape();
  assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: 'm0' }), 1);
  assert.equal(sample(text, 'vigil_etcd_endpoint_is_leader', { member: 'm0' }), 1);
  assert.equal(sample(text, 'vigil_etcd_endpoint_has_leader', { member: 'm0' }), 1);
  assert.equal(sample(text, 'vigil_etcd_has_leader'), 1);
  assert.equal(sample(text, 'vigil_etcd_request_failures_total', { member: 'm0', operation: 'put', kind: 'timeout' }), 0, 'failure counters start at 0');
  assert.equal(sample(text, 'vigil_etcd_alarm', { member: 'm0', alarm: 'NOSPACE' }), 0);
  assert.equal(sample(text, 'vigil_etcd_alarm', { member: 'm0', alarm: 'CORRUPT' }), 0);
  const db = sample(text, 'vigil_etcd_db_size_bytes', { member: 'm0' })!;
  assert.ok(db > 4096 && db < 64 * 2 ** 20, `db size ${db}`);
  for (const operation of ['put', 'get']) {
    const count = sample(text, 'vigil_etcd_request_duration_seconds_count', { member: 'm0', operation })!;
    const sum = sample(text, 'vigil_etcd_request_duration_seconds_sum', { member: 'm0', operation })!;
    assert.ok(count >= 1, `${operation} count ${count}`);
    // How fast is the machine's business, not this test's: bench/etcd-fidelity.ts measures the latency.
    assert.ok(sum > 0, `${operation} durations recorded`);
    assert.equal(sample(text, 'vigil_etcd_request_duration_seconds_bucket', { member: 'm0', operation, le: '0.1' }) !== undefined, true, 'a bucket edge at the warning threshold');
    assert.equal(sample(text, 'vigil_etcd_request_duration_seconds_bucket', { member: 'm0', operation, le: '0.5' }) !== undefined, true, 'a bucket edge at the critical threshold');
  }

  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool finds nothing wrong with the etcd series');

  // Only the probe's own key exists, under its prefix, and it hangs on a lease.
  const client = new Etcd3({ hosts: `http://${ep}` });
  try {
    const keys = await client.getAll().prefix('/').keys();
    assert.deepEqual(keys, [`/vigil/probe/test-node/${ep}`]);
    const res = await client.get(keys[0]!).exec();
    assert.notEqual(res.kvs[0]!.lease, '0', 'the key is attached to a lease');
  } finally {
    client.close();
  }
});

test('etcd stopped: endpoint down, critical "unreachable", /metrics keeps answering', async () => {
  pid = etcd.members[0]!.pid!;
  await etcd.members[0]!.kill();
  const s = await waitFor('a critical verdict', verdictIs('critical'), 20_000, lastStatus);
  assert.equal(s.reason, 'unreachable');
  assert.equal(s.message, `etcd ${ep}: unreachable: connection refused`);
  const text = await agent.scrape();
  assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: 'm0' }), 0);
  assert.equal(sample(text, 'vigil_etcd_endpoint_has_leader', { member: 'm0' }), undefined, 'a member that does not answer cannot say whether it knows a leader');
  assert.equal(sample(text, 'vigil_etcd_has_leader'), 0);
  assert.equal(sample(text, 'vigil_etcd_db_size_bytes', { member: 'm0' }), undefined, 'no stale size for a member that does not answer');
  assert.ok(sample(text, 'vigil_probe_failures_total', { probe: 'etcd', reason: 'unreachable' })! >= 1);
});

test('etcd restarted: the same agent recovers to ok', async () => {
  etcd.members[0]!.spawn();
  await etcd.members[0]!.ready();
  assert.notEqual(etcd.members[0]!.pid, pid, 'a new etcd process');
  const s = await waitFor('ok again', verdictIs('ok'), 30_000, lastStatus);
  assert.match(s.message, /1 of 1 member/);
  const text = await agent.scrape();
  assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: 'm0' }), 1);
});

test('the slow disk: fdatasync delayed by strace turns the verdict to critical (above 250 ms) naming the endpoint, and back to ok', async () => {
  await waitFor('ok before the delay', verdictIs('ok'), 20_000, lastStatus);
  // Every fdatasync/fsync of the running etcd delayed by 300 ms: a slow network disk.
  const detach = await slowDisk(etcd.members[0]!.pid!, 300);
  try {
    // Seen by the first run that starts after the delay is attached: counted in runs, not seconds,
    // so a busy machine that starts runs late does not change the answer.
    const runs = async () => sample(await agent.scrape(), 'vigil_probe_runs_total', { probe: 'etcd' })!;
    const runsAtAttach = await runs();
    // A busy machine can make a put pass 100 ms on its own: the verdict looked for is the delay's.
    const delayed = async () => {
      const st = await agent.etcdStatus();
      const put = /put (\d+) ms/.exec(st.message);
      return st.verdict !== 'ok' && put && Number(put[1]) >= 300 ? st : undefined;
    };
    const s = await waitFor('a slow-write verdict with a put of 300 ms or more', delayed, 30_000, lastStatus);
    const runsToSee = (await runs()) - runsAtAttach;
    assert.equal(s.reason, 'slow-write');
    assert.match(s.message, new RegExp(`^etcd ${ep.replace(/\./g, '\\.')}: put (\\d+) ms > (100|250) ms`));
    const putMs = Number(/put (\d+) ms/.exec(s.message)![1]);
    assert.ok(putMs >= 300, `put ${putMs} ms with a 300 ms fsync delay`);
    // the run already going when the delay came may end without a slow put; the next one has one
    assert.ok(runsToSee <= 2, `seen after ${runsToSee} runs`);
    const text = await agent.scrape();
    const slow = sample(text, 'vigil_etcd_request_duration_seconds_count', { member: 'm0', operation: 'put' })! - sample(text, 'vigil_etcd_request_duration_seconds_bucket', { member: 'm0', operation: 'put', le: '0.25' })!;
    assert.ok(slow >= 1, 'the histogram holds puts slower than 250 ms');
  } finally {
    await detach();
  }
  assert.notEqual(etcd.members[0]!.pid, undefined, 'etcd survived the detach');
  await waitFor('ok after the delay is removed', verdictIs('ok'), 20_000, lastStatus);
});

test('a disk so slow that puts hang past the request timeout: each is observed as the time it waited, above 250 ms, and counted', async () => {
  await waitFor('ok before the delay', verdictIs('ok'), 20_000, lastStatus);
  const put = { member: 'm0', operation: 'put' };
  const above = (text: string, le: string) => sample(text, 'vigil_etcd_request_duration_seconds_count', put)! - sample(text, 'vigil_etcd_request_duration_seconds_bucket', { ...put, le })!;
  const timeouts = (text: string) => sample(text, 'vigil_etcd_request_failures_total', { ...put, kind: 'timeout' })!;
  const before = await agent.scrape();
  // Every fsync delayed by 1 s, past the 600 ms request timeout: status still answers, puts hang.
  const detach = await slowDisk(etcd.members[0]!.pid!, 1000);
  try {
    const hung = async () => {
      const st = await agent.etcdStatus();
      return /put failed: no answer within 600 ms/.test(st.message) ? st : undefined;
    };
    const s = await waitFor('a put that timed out', hung, 30_000, lastStatus);
    assert.equal(s.verdict, 'critical');
    assert.equal(s.reason, 'slow-write');
    const text = await agent.scrape();
    assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: 'm0' }), 1, 'the member still answers its status');
    const timedOut = timeouts(text) - timeouts(before);
    assert.ok(timedOut >= 1, `${timedOut} puts counted as timeouts`);
    // A put that answered would have taken the 1 s fsync and timed out instead: what sits above 0.5 s is the waits.
    assert.ok(above(text, '0.5') - above(before, '0.5') >= timedOut, 'every timed-out put is observed above 0.5 s');
    assert.ok(above(text, '0.25') - above(before, '0.25') >= timedOut, 'and so above the 250 ms critical threshold the alerts use');
  } finally {
    await detach();
  }
  assert.notEqual(etcd.members[0]!.pid, undefined, 'etcd survived the detach');
  await waitFor('ok after the delay is removed', verdictIs('ok'), 30_000, lastStatus);
});
