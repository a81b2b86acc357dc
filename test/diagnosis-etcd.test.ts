// Three real agents probing one real three-member etcd cluster, one member on a slow disk: the
// cluster status names one cause, the member by its etcd name, "seen by 3 of 3 agents".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { waitFor } from './support/etcd-agent.ts';
import { slowDisk, startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { startLoopbackCluster, type LoopbackCluster } from './support/loopback-cluster.ts';

const NAMES = ['alpha', 'bravo', 'charlie'];
let etcd: EtcdCluster;
let cluster: LoopbackCluster;

before(async () => {
  etcd = await startEtcdCluster(3);
  cluster = await startLoopbackCluster({
    names: NAMES,
    intervalMs: 1000,
    configure: () => ({
      probes: {
        node: { enabled: false },
        etcd: { enabled: true, interval: '4400ms', timeout: '3800ms', requestTimeout: '1200ms', endpoints: etcd.endpoints, leaseTTL: '5s', writeLatency: { warning: '100ms', critical: '250ms' } },
      },
    }),
  });
});

after(async () => {
  await cluster?.close();
  await etcd?.stop();
});

// detail=probes: the figures (each endpoint's member name) are left out of the answer unless asked for
const status = async (node = 'alpha') => (await (await fetch(`${cluster.url(node)}/api/v1/status?detail=probes`)).json()) as ClusterStatus;
const etcdCauses = (s: ClusterStatus) => s.causes.filter((c) => c.kind.startsWith('etcd') || c.probes?.includes('etcd'));

test('healthy: no etcd cause, and every agent sees every member by its name', async () => {
  const s = await waitFor(
    'a healthy cluster',
    async () => {
      const st = await status();
      return st.verdict === 'healthy' && st.nodes.every((n) => n.probes.some((p) => p.name === 'etcd' && p.verdict === 'ok')) ? st : undefined;
    },
    60_000,
    async () => JSON.stringify((await status()).causes),
  );
  for (const n of s.nodes) {
    const obs = n.probes.find((p) => p.name === 'etcd')!.observations!;
    assert.deepEqual(
      etcd.members.map((m) => obs[`${m.endpoint} member`]),
      ['m0', 'm1', 'm2'],
      n.name,
    );
  }
});

test('one member on a slow disk: exactly one etcd cause, naming the member, seen by 3 of 3 agents, with since', async () => {
  // A follower: its own writes are slow, the others' are not (a slow leader slows every member; see etcd-cluster.test.ts).
  const metrics = await (await fetch(`${cluster.url('alpha')}/metrics`)).text();
  const leaderLabel = /^vigil_etcd_endpoint_is_leader\{[a-z_]+="([^"]+)"\} 1$/m.exec(metrics)?.[1];
  assert.ok(leaderLabel, 'a leader is exported');
  const slow = etcd.members.find((m) => m.endpoint !== leaderLabel && m.name !== leaderLabel)!;
  const detach = await slowDisk(slow.pid!, 300);
  try {
    const s = await waitFor(
      'one etcd cause seen by 3 of 3',
      async () => {
        const st = await status();
        const c = etcdCauses(st);
        return c.length === 1 && c[0]!.seenBy?.agents.length === 3 && /writes slow/.test(c[0]!.message) ? st : undefined;
      },
      60_000,
      async () => JSON.stringify(etcdCauses(await status())),
    );
    const [cause] = etcdCauses(s);
    assert.equal(cause!.kind, 'etcd-member');
    // Behind a 300 ms fsync on a busy machine etcd may also give up on a write itself
    // ("request timed out", a leader change): that is the same member's problem, said in the same cause.
    assert.match(cause!.message, new RegExp(`^etcd member ${slow.name}: writes slow \\(\\d+(–\\d+)? ms\\)(, writes fail)?, seen by 3 of 3 agents$`));
    assert.ok(cause!.since && Date.parse(cause!.since) <= Date.parse(s.time), JSON.stringify(cause));
    // the same answer from any agent: charlie's is its own fan-out, waited for as alpha's was
    const fromCharlie = await waitFor(
      'the same etcd cause from charlie',
      async () => {
        const c = etcdCauses(await status('charlie'));
        return c.length === 1 && c[0]!.component === `etcd member ${slow.name}` ? c : undefined;
      },
      60_000,
      async () => JSON.stringify(etcdCauses(await status('charlie'))),
    );
    assert.deepEqual(
      fromCharlie.map((c) => c.component),
      [`etcd member ${slow.name}`],
    );
  } finally {
    await detach();
  }
});
