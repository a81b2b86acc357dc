import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { freePort, loopbackAddresses, removeDir, startPeerAgent, startAll, waitFor, type PeerAgent } from './support/peer-agents.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const INTERVAL_MS = 1000;
const NAMES = ['alpha', 'bravo', 'charlie', 'delta'];
const TOKEN = 'loopback-test-token-0123456789';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // a generous bound: the CLI compiles through tsx first, slow on a busy machine
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err?.killed) return reject(new Error(`vigil ${args.join(' ')} still running after 120 s: ${stdout}${stderr}`));
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

void describe('peer mesh on loopback', () => {
  const agents = new Map<string, PeerAgent>();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-loopback-'));
  const tokenFile = path.join(dir, 'token');
  const get = async <T>(name: string, p: string, token = true): Promise<T> => {
    const res = await fetch(`${agents.get(name)!.url}${p}`, { headers: token ? { authorization: `Bearer ${TOKEN}` } : {} });
    if (!res.ok) throw new Error(`${p}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };

  before(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const ports = new Map<string, number>();
    const ips = new Map(loopbackAddresses(NAMES.length).map((ip, i) => [NAMES[i]!, ip]));
    for (const n of NAMES) ports.set(n, await freePort(ips.get(n)));
    const addr = (n: string) => `${ips.get(n)}:${ports.get(n)}`;
    const staticPeers = NAMES.map((n) => ({ node: n, pod: addr(n) }));
    const started = await startAll(
      NAMES.map(
        (n) => () =>
          startPeerAgent({
            name: n,
            url: `http://${addr(n)}`,
            dir: mkdtempSync(path.join(dir, `${n}-`)),
            config: {
              web: { listenAddress: addr(n) },
              peers: { discovery: ['static'], static: staticPeers, interval: `${INTERVAL_MS}ms`, timeout: '500ms', tokenFile },
            },
          }),
      ),
    );
    for (const a of started) agents.set(a.name, a);
  });

  after(async () => {
    await Promise.all([...agents.values()].map((a) => a.kill()));
    removeDir(dir);
  });

  void it('every agent sees every other up, and the cluster is healthy', async () => {
    for (const n of NAMES) {
      await waitFor(`${n} to see its peers up`, async () => {
        const s = await get<LocalStatusWithPeers>(n, '/api/v1/status/local');
        const up = s.peers
          .filter((p) => p.up && p.network === 'pod')
          .map((p) => p.peer)
          .sort();
        return up.length === NAMES.length - 1 ? up : undefined;
      });
    }
    const s = await waitFor('a healthy cluster', async () => {
      const st = await get<ClusterStatus>('alpha', '/api/v1/status');
      return st.verdict === 'healthy' ? st : undefined;
    });
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.answered]),
      NAMES.map((n) => [n, true]).sort(),
    );
    assert.deepEqual(s.causes, []);
    // the CLI asks bravo, whose fan-out is its own: wait until bravo too answers healthy
    await waitFor(
      'a healthy cluster seen from bravo',
      async () => {
        const st = await get<ClusterStatus>('bravo', '/api/v1/status');
        return st.verdict === 'healthy' ? st : undefined;
      },
      30_000,
    );
    const r = await cli(['status', '--url', agents.get('bravo')!.url, '--token-file', tokenFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^cluster healthy/);
    for (const n of NAMES) assert.match(r.stdout, new RegExp(`^${n} +ok `, 'm'));
  });

  void it('refuses the peer endpoints without the token and leaves /metrics and /healthz open', async () => {
    const url = agents.get('alpha')!.url;
    for (const p of ['/api/v1/ping', '/api/v1/status', '/api/v1/status/local', '/api/v1/history', '/api/v1/history/local']) {
      const res = await fetch(`${url}${p}`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } });
      assert.equal(res.status, 401, p);
      assert.equal((await fetch(`${url}${p}`)).status, 401, p);
    }
    for (const p of ['/metrics', '/healthz', '/readyz']) assert.equal((await fetch(`${url}${p}`)).status, 200, p);
    const r = await cli(['status', '--url', url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /peer token/);
  });

  void it('a killed agent is reported down by its observers within two intervals, named by the cluster status, and the CLI exits 1', async () => {
    const killedAt = Date.now();
    await agents.get('delta')!.kill('SIGKILL');
    const observers = NAMES.filter((n) => n !== 'delta');
    const seenDown = await Promise.all(
      observers.map((n) =>
        waitFor(
          `${n} to see delta down`,
          async () => {
            const s = await get<LocalStatusWithPeers>(n, '/api/v1/status/local');
            // A ping under way at the kill reads as a reset connection; the next one is refused. The
            // observation keeps the time of the first failure while the peer stays down.
            return s.peers.find((p) => p.peer === 'delta' && !p.up && p.failure === 'refused');
          },
          20_000,
        ),
      ),
    );
    // when each observer first recorded delta down (its own clock), not when this test polled:
    // the next round after the kill sees it, and jitter moves a round by at most 10 %
    for (const [i, o] of seenDown.entries()) {
      const after = Date.parse(o.since!) - killedAt;
      assert.ok(after <= 2 * INTERVAL_MS * 1.1, `${observers[i]} saw delta down ${after} ms after the kill`);
      assert.equal(o.failure, 'refused');
    }

    // charlie's cluster status is its own fan-out to the observers: wait until it carries what each
    // of them saw (an answer can miss its deadline on a busy machine)
    let last: ClusterStatus | undefined;
    const s = await waitFor(
      'charlie to name delta unreachable from every observer',
      async () => {
        last = await get<ClusterStatus>('charlie', '/api/v1/status');
        const d = last.nodes.find((n) => n.name === 'delta');
        return d?.verdict === 'unreachable' && JSON.stringify(d.unreachableFrom.pod) === JSON.stringify(observers) ? last : undefined;
      },
      30_000,
    ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last?.nodes.find((n) => n.name === 'delta'))}`));
    assert.equal(s.verdict, 'degraded');
    const delta = s.nodes.find((n) => n.name === 'delta')!;
    assert.equal(delta.verdict, 'unreachable');
    assert.deepEqual(delta.unreachableFrom.pod, observers);
    const cause = s.causes.find((c) => c.nodes.includes('delta'))!;
    assert.equal(cause.kind, 'agent-down');
    assert.match(cause.message, /delta/);

    const metrics = await (await fetch(`${agents.get('alpha')!.url}/metrics`)).text();
    assert.match(metrics, /^vigil_peer_up\{peer_node="delta",network="pod"\} 0$/m);
    assert.match(metrics, /^vigil_peer_up\{peer_node="bravo",network="pod"\} 1$/m);
    assert.match(metrics, /^vigil_peers_known 3$/m);
    assert.doesNotMatch(metrics, /127\.\d+\.\d+\.\d+/);

    const r = await cli(['status', '--url', agents.get('alpha')!.url, '--token-file', tokenFile]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^cluster degraded/);
    assert.match(r.stdout, /^delta +unreachable /m);
    assert.match(r.stdout, /agent on delta is not running/);
  });
});
