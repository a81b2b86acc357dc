import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { slowDisk, startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { sample, startEtcdAgent, waitFor, type EtcdAgent } from './support/etcd-agent.ts';

// A three-member cluster and one agent probing every member; the tests run in order.
let etcd: EtcdCluster;
let agent: EtcdAgent;

before(async () => {
  etcd = await startEtcdCluster(3);
  // Thresholds between a healthy put on a busy machine and one behind the 300 ms fsync the
  // slow-disk tests inject; requests short enough that three in a row fit in the run.
  agent = await startEtcdAgent({ endpoints: etcd.endpoints, interval: '2200ms', timeout: '1900ms', requestTimeout: '600ms', writeLatency: { warning: '200ms', critical: '1s' }, leaseTTL: '5s' });
});

after(async () => {
  await agent?.stop();
  await etcd?.stop();
});

const lastStatus = async () => JSON.stringify(await agent.etcdStatus());
/** The member's name as etcd reports it: the label its series carry. */
const nameOf = (endpoint: string) => etcd.members.find((m) => m.endpoint === endpoint)!.name;
const leaders = (text: string) => etcd.endpoints.filter((endpoint) => sample(text, 'vigil_etcd_endpoint_is_leader', { member: nameOf(endpoint) }) === 1);

test('three healthy members: ok, every member up, exactly one leader', async () => {
  const s = await waitFor('ok', async () => ((await agent.etcdStatus()).verdict === 'ok' ? agent.etcdStatus() : undefined), 20_000, lastStatus);
  assert.match(s.message, /3 of 3 member\(s\) answered/);
  const text = await agent.scrape();
  for (const endpoint of etcd.endpoints) {
    assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: nameOf(endpoint) }), 1, endpoint);
    assert.equal(sample(text, 'vigil_etcd_endpoint_has_leader', { member: nameOf(endpoint) }), 1, `${endpoint} knows the leader`);
    assert.ok(sample(text, 'vigil_etcd_request_duration_seconds_count', { member: nameOf(endpoint), operation: 'put' })! >= 1, `${endpoint} was written through`);
  }
  // Named as etcd names them, never by the address they were reached at.
  assert.doesNotMatch(text, /^vigil_etcd_\w+\{[^}]*(endpoint|127\.0\.0\.1)/m);
  assert.equal(leaders(text).length, 1);
  assert.equal(sample(text, 'vigil_etcd_has_leader'), 1);
});

const ok = async () => waitFor('ok', async () => ((await agent.etcdStatus()).verdict === 'ok' ? true : undefined), 20_000, lastStatus);

test('a follower on a slow disk: its writes are slow and it alone is named', async () => {
  await ok();
  const leader = leaders(await agent.scrape())[0]!;
  const follower = etcd.members.find((m) => m.endpoint !== leader)!;
  const detach = await slowDisk(follower.pid!, 300);
  try {
    // A put through a follower answers once the follower has applied it, which waits on its fsync.
    const s = await waitFor(
      'the slow follower named',
      async () => {
        const st = await agent.etcdStatus();
        return st.reason === 'slow-write' && st.message.startsWith(`etcd ${follower.endpoint}: put`) ? st : undefined;
      },
      20_000,
      lastStatus,
    );
    for (const other of etcd.endpoints.filter((e) => e !== follower.endpoint)) assert.ok(!s.message.includes(other), `${other} is not blamed: ${s.message}`);
  } finally {
    await detach();
  }
  await ok();
});

test('the leader on a slow disk: every write is slow, and the leader is marked and named first', async () => {
  const leader = leaders(await agent.scrape())[0]!;
  const detach = await slowDisk(etcd.members.find((m) => m.endpoint === leader)!.pid!, 300);
  try {
    const s = await waitFor(
      'the slow leader named first',
      async () => {
        const st = await agent.etcdStatus();
        return st.reason === 'slow-write' && st.message.startsWith(`etcd ${leader} (leader): put`) ? st : undefined;
      },
      20_000,
      lastStatus,
    );
    assert.match(s.message, /; etcd 127\.0\.0\.1:\d+: put/, "the followers' writes are slow too");
  } finally {
    await detach();
  }
  await ok();
});

test('the leader killed: that endpoint is named, a new leader is elected, the others keep taking writes', async () => {
  const leader = leaders(await agent.scrape())[0]!;
  const victim = etcd.members.find((m) => m.endpoint === leader)!;
  await victim.kill();
  const { status, text } = await waitFor(
    'the dead member named while a leader is present',
    async () => {
      const status = await agent.etcdStatus();
      const text = await agent.scrape();
      const others = etcd.endpoints.filter((e) => e !== leader);
      // Settled: the election is over and both survivors served this run's get and put, in their
      // usual time (the puts waiting on the election are slow, and named so, for a run or two).
      const settled =
        status.verdict === 'critical' &&
        status.message === `etcd ${leader}: unreachable: connection refused` &&
        others.every((e) => typeof status.observations?.[`${e} put ms`] === 'number' && typeof status.observations[`${e} get ms`] === 'number');
      return settled && sample(text, 'vigil_etcd_has_leader') === 1 ? { status, text } : undefined;
    },
    20_000,
    lastStatus,
  );
  assert.equal(status.reason, 'unreachable');
  assert.equal(status.message, `etcd ${leader}: unreachable: connection refused`);
  assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: nameOf(leader) }), 0, 'a member that stopped answering keeps the name it answered with');
  const newLeaders = leaders(text);
  assert.equal(newLeaders.length, 1);
  assert.notEqual(newLeaders[0], leader);
});

test('a second member killed: quorum lost, both members down named', async () => {
  const alive = etcd.members.filter((m) => m.pid !== undefined);
  assert.equal(alive.length, 2);
  const victim = alive[0]!;
  const survivor = alive[1]!;
  await victim.kill();
  const status = await waitFor(
    'quorum-lost',
    async () => {
      const s = await agent.etcdStatus();
      return s.reason === 'quorum-lost' ? s : undefined;
    },
    20_000,
    lastStatus,
  );
  assert.equal(status.verdict, 'critical');
  const down = etcd.endpoints.filter((e) => e !== survivor.endpoint);
  assert.match(status.message, new RegExp(`^etcd quorum lost: 1 of 3 members reachable, none has a leader \\(down: (${down.join(', ')}|${[...down].reverse().join(', ')})\\)`.replace(/\./g, '\\.')));
  const text = await agent.scrape();
  assert.equal(sample(text, 'vigil_etcd_has_leader'), 0);
  assert.equal(sample(text, 'vigil_etcd_endpoint_up', { member: survivor.name }), 1, 'the survivor still answers its status');
  assert.equal(sample(text, 'vigil_etcd_endpoint_has_leader', { member: survivor.name }), 0, 'and knows no leader');
  for (const e of down) assert.equal(sample(text, 'vigil_etcd_endpoint_has_leader', { member: nameOf(e) }), undefined, `${e} cannot say`);
});
