import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { spawnAgent, type AgentProcess } from './support/agent-process.ts';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { etcdAgentConfig, waitFor } from './support/etcd-agent.ts';

// Agents as real processes against one etcd member: what they leave behind when they die.
let etcd: EtcdCluster;
let client: Etcd3;
let dir: string;
const agents: AgentProcess[] = [];

before(async () => {
  etcd = await startEtcdCluster(1);
  client = new Etcd3({ hosts: `http://${etcd.endpoints[0]}` });
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-proc-'));
});

after(async () => {
  for (const a of agents) a.kill();
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startNode(name: string, leaseTTL: string): Promise<{ agent: AgentProcess; prefix: string }> {
  // spawnAgent learns the port from the "started" line, so this agent logs at info.
  const config = etcdAgentConfig({ endpoints: etcd.endpoints, interval: '1s', leaseTTL }, { storagePath: path.join(dir, name), nodeName: name, logLevel: 'info' });
  const agent = await spawnAgent({ config });
  agents.push(agent);
  return { agent, prefix: `/vigil/probe/${name}/` };
}

const keysUnder = (prefix: string) => client.getAll().prefix(prefix).keys();

test('an agent killed with SIGKILL: its probe keys are gone once the lease expires', async () => {
  // A TTL long enough that the key is surely still there once the process is seen dead, even if
  // the machine is busy and a keep-alive ran late: seen there after the process died, it was not
  // revoked, so its going later is the lease expiring.
  const { agent, prefix } = await startNode('killed-node', '8s');
  const keys = await waitFor(
    'the agent to write its key',
    async () => {
      const k = await keysUnder(prefix);
      return k.length > 0 ? k : undefined;
    },
    30_000,
    () => agent.logs.join('\n'),
  );
  assert.deepEqual(keys, [`${prefix}${etcd.endpoints[0]}`]);
  agent.kill('SIGKILL');
  assert.equal((await agent.exited).signal, 'SIGKILL');
  assert.equal((await keysUnder(prefix)).length, 1, 'the key outlives the process until the lease expires');
  // etcd checks expiry every 500 ms.
  await waitFor('the key to expire', async () => ((await keysUnder(prefix)).length === 0 ? true : undefined), 30_000);
});

test('an agent stopped with SIGTERM revokes its lease: keys go at once, not after the TTL', async () => {
  const { agent, prefix } = await startNode('stopped-node', '120s');
  await waitFor(
    'the agent to write its key',
    async () => ((await keysUnder(prefix)).length > 0 ? true : undefined),
    30_000,
    () => agent.logs.join('\n'),
  );
  agent.kill('SIGTERM');
  assert.equal((await agent.exited).code, 0, agent.logs.join('\n'));
  assert.deepEqual(await keysUnder(prefix), [], 'no key left behind by a clean shutdown');
  assert.deepEqual(await client.getAll().prefix('/').keys(), [], 'nothing written anywhere else either');
});
