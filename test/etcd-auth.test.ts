import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { settledVerdict, startEtcdAgent, type EtcdAgent } from './support/etcd-agent.ts';

// One etcd member with authentication on: a "vigil" user may read and write /vigil/probe/ only.
let etcd: EtcdCluster;
let ep: string;
let dir: string;

before(async () => {
  etcd = await startEtcdCluster(1);
  ep = etcd.endpoints[0]!;
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-auth-'));
  const ctl = (...args: string[]) => execFileSync('etcdctl', [`--endpoints=${ep}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
  ctl('user', 'add', 'root:rootpw');
  ctl('user', 'add', 'vigil:s3cret');
  ctl('role', 'add', 'vigil-probe');
  ctl('role', 'grant-permission', 'vigil-probe', '--prefix=true', 'readwrite', '/vigil/probe/');
  ctl('user', 'grant-role', 'vigil', 'vigil-probe');
  ctl('user', 'add', 'other:otherpw');
  ctl('auth', 'enable');
});

after(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Authenticating costs a bcrypt hash and a raft round on etcd's side, so runs get more time here.
async function firstVerdict(options: Record<string, unknown>) {
  const a: EtcdAgent = await startEtcdAgent({ endpoints: [ep], interval: '6s', timeout: '5s', requestTimeout: '1500ms', writeLatency: { warning: '2s', critical: '3s' }, ...options });
  try {
    return await settledVerdict(a);
  } finally {
    await a.stop();
  }
}

test('a user allowed only the probe prefix, its password read from a file: ok', async () => {
  const file = path.join(dir, 'password');
  writeFileSync(file, 's3cret\n'); // as a Secret mounted from `kubectl create secret --from-file` often ends
  const s = await firstVerdict({ auth: { username: 'vigil', passwordFile: file } });
  assert.equal(s.verdict, 'ok', s.message);
});

test('a wrong password: critical "auth" naming the endpoint', async () => {
  const s = await firstVerdict({ auth: { username: 'vigil', password: 'wrong' } });
  assert.deepEqual([s.verdict, s.reason], ['critical', 'auth']);
  assert.match(s.message, new RegExp(`^etcd ${ep.replace(/\./g, '\\.')}: authentication failed: .*authentication failed`));
});

test('a user without permission on the prefix: critical "auth", the writes refused', async () => {
  const s = await firstVerdict({ auth: { username: 'other', password: 'otherpw' } });
  assert.deepEqual([s.verdict, s.reason], ['critical', 'auth']);
  assert.match(s.message, /put failed: authentication failed: .*permission denied/);
});
