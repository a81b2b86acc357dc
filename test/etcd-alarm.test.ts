import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { sample, startEtcdAgent, waitFor, type EtcdAgent } from './support/etcd-agent.ts';

// One etcd member with a 1 MiB backend quota, filled by the test until etcd raises NOSPACE.
let etcd: EtcdCluster;
let agent: EtcdAgent;
let client: Etcd3;
let ep: string;

before(async () => {
  etcd = await startEtcdCluster(1, { args: ['--quota-backend-bytes=1048576'] });
  ep = etcd.endpoints[0]!;
  // No retries or circuit breaker: the writes that fill etcd are meant to fail.
  client = new Etcd3({ hosts: `http://${ep}`, faultHandling: { host: () => noop, global: noop } });
  agent = await startEtcdAgent({ endpoints: [ep], interval: '2200ms', timeout: '1900ms', requestTimeout: '600ms', writeLatency: { warning: '400ms', critical: '500ms' } });
});

after(async () => {
  await agent?.stop();
  client?.close();
  await etcd?.stop();
});

test('etcd out of space: NOSPACE named as critical "alarm" and exported; the probe leaves history and the alarm alone', async () => {
  await waitFor('ok', async () => ((await agent.etcdStatus()).verdict === 'ok' ? true : undefined), 20_000);
  const firstRevision = Number((await client.put('/fill/first').value('x').exec()).header.revision);
  const value = 'a'.repeat(100_000);
  let filled = 0;
  for (; filled < 100; filled++) {
    try {
      await client.put(`/fill/${filled}`).value(value).exec();
    } catch (err) {
      assert.match((err as Error).message, /database space exceeded/);
      break;
    }
  }
  assert.ok(filled < 100, 'etcd refused a write once the quota was reached');

  const s = await waitFor(
    'the alarm',
    async () => {
      const st = await agent.etcdStatus();
      return st.reason === 'alarm' ? st : undefined;
    },
    20_000,
    async () => JSON.stringify(await agent.etcdStatus()),
  );
  assert.equal(s.verdict, 'critical');
  assert.match(s.message, new RegExp(`^etcd ${ep.replace(/\./g, '\\.')}: alarm NOSPACE raised; etcd ${ep.replace(/\./g, '\\.')}: put failed: .*database space exceeded`));
  const text = await agent.scrape();
  assert.equal(sample(text, 'vigil_etcd_alarm', { member: 'm0', alarm: 'NOSPACE' }), 1);
  assert.equal(sample(text, 'vigil_etcd_alarm', { member: 'm0', alarm: 'CORRUPT' }), 0);
  assert.ok(sample(text, 'vigil_etcd_db_size_bytes', { member: 'm0' })! > 1_000_000, 'the database size shows the full backend');

  // Several runs later: nothing compacted (the first revision still reads), the alarm still raised.
  const runs = sample(text, 'vigil_probe_runs_total', { probe: 'etcd' })!;
  await waitFor('three more runs', async () => (sample(await agent.scrape(), 'vigil_probe_runs_total', { probe: 'etcd' })! >= runs + 3 ? true : undefined), 20_000);
  const old = await client.get('/fill/first').revision(firstRevision).exec();
  assert.equal(old.kvs[0]?.value.toString(), 'x', 'history at the first revision is still there');
  const alarms = await client.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
  assert.deepEqual(
    alarms.alarms.map((a) => a.alarm),
    ['Nospace'],
  );
});
