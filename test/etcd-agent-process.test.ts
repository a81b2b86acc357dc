import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { etcdAgentConfig, waitFor } from './support/etcd-agent.ts';

// Agents as real processes against one etcd member: what they leave behind when they die.
const repo = path.resolve(import.meta.dirname, '..');
let etcd: EtcdCluster;
let client: Etcd3;
let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  etcd = await startEtcdCluster(1);
  client = new Etcd3({ hosts: `http://${etcd.endpoints[0]}` });
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-proc-'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function spawnAgent(name: string, leaseTTL: string): { proc: ChildProcess; prefix: string; output: () => string } {
  const storage = path.join(dir, name);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, etcdAgentConfig({ endpoints: etcd.endpoints, interval: '1s', leaseTTL }, storage, name));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '--config.file', file], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, prefix: `/vigil/probe/${name}/`, output: () => out };
}

const keysUnder = (prefix: string) => client.getAll().prefix(prefix).keys();

void test('an agent killed with SIGKILL: its probe keys are gone once the lease expires', async () => {
  const a = spawnAgent('killed-node', '3s');
  const keys = await waitFor('the agent to write its key', async () => {
    const k = await keysUnder(a.prefix);
    return k.length > 0 ? k : undefined;
  }, 30_000, a.output);
  assert.deepEqual(keys, [`${a.prefix}${etcd.endpoints[0]}`]);
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  assert.equal((await keysUnder(a.prefix)).length, 1, 'the key outlives the process until the lease expires');
  // The TTL is 3 s; etcd checks expiry every 500 ms, and a keep-alive may have just renewed it.
  await waitFor('the key to expire', async () => ((await keysUnder(a.prefix)).length === 0 ? true : undefined), 10_000);
  assert.ok(Date.now() - killedAt >= 1000, 'gone by expiry, not by a revoke');
});

void test('an agent stopped with SIGTERM revokes its lease: keys go at once, not after the TTL', async () => {
  const a = spawnAgent('stopped-node', '120s');
  await waitFor('the agent to write its key', async () => ((await keysUnder(a.prefix)).length > 0 ? true : undefined), 30_000, a.output);
  const exited = new Promise<number | null>((r) => a.proc.once('exit', (code) => r(code)));
  a.proc.kill('SIGTERM');
  assert.equal(await exited, 0, a.output());
  assert.deepEqual(await keysUnder(a.prefix), [], 'no key left behind by a clean shutdown');
  assert.deepEqual(await client.getAll().prefix('/').keys(), [], 'nothing written anywhere else either');
});
