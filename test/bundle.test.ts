// The shipped artifact — the esbuild bundle (no native addon: the history uses node:sqlite), built outside the
// repository so nothing can be resolved from node_modules — runs the agent with everything it loads
// lazily: the etcd client (and its protobuf files) against a real etcd, the Kubernetes client
// against the API simulator, the status page's files, the history database; `vigil status` too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { REPO, eventually, spawnAgent, type AgentProcess } from './support/agent-process.ts';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { K8sProbeEnv } from './support/k8s-probe-env.ts';

let dir: string;
let bundle: string;
let etcd: EtcdCluster;
let k8s: K8sProbeEnv;
let agent: AgentProcess | undefined;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bundle-'));
  const build = spawnSync(process.execPath, [path.join(REPO, 'scripts/build.mjs'), '--outdir', path.join(dir, 'dist')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  bundle = path.join(dir, 'dist/vigil.mjs');
  etcd = await startEtcdCluster(1);
  k8s = await K8sProbeEnv.start({ nodes: ['n1'] });
});

after(async () => {
  agent?.kill();
  await etcd?.stop();
  await k8s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sample = (text: string, series: string) => {
  const m = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

test('the bundle carries its V8 flags in its shebang and is what the package runs', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.vigil, 'dist/vigil.mjs');
  const first = readFileSync(bundle, 'utf8').split('\n', 1)[0]!;
  assert.match(first, /^#!\/usr\/bin\/env -S node( --\S+)+$/);
  const version = spawnSync(bundle, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
});

test('the bundle runs the etcd and Kubernetes probes, serves the status page, keeps history and answers vigil status', async () => {
  const storage = path.join(dir, 'data');
  const config = parse(
    k8s.configText('n1', {
      etcd: { endpoints: etcd.endpoints, interval: '2s', timeout: '1800ms' },
      apiserver: { interval: '2s', timeout: '1800ms' },
    }),
  ) as Record<string, unknown>;
  agent = await spawnAgent({ built: bundle, config: stringify({ ...config, storage: { path: storage }, shutdown: { gracePeriod: '2s' } }) });
  const a = agent;
  const metrics = await eventually(
    async () => {
      const text = await (await fetch(`${a.url}/metrics`)).text();
      return sample(text, 'vigil_probe_success{probe="etcd"}') === 1 && sample(text, 'vigil_probe_success{probe="apiserver"}') === 1 ? text : undefined;
    },
    60_000,
    'etcd and apiserver probes succeeding',
  );
  assert.ok(sample(metrics, 'vigil_etcd_has_leader') === 1, 'etcd answered through the bundled gRPC client');

  const page = await fetch(`${a.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<section id="verdict"/);
  for (const asset of ['app.js', 'style.css']) assert.equal((await fetch(`${a.url}/ui/${asset}`)).status, 200, `/ui/${asset}`);

  // Exit 0 or 1 by the latest runs' verdicts (a loaded machine may time one out); 2 would mean no answer.
  const status = spawnSync(bundle, ['status', '--local', '--url', a.url], { encoding: 'utf8' });
  assert.ok(status.status === 0 || status.status === 1, status.stdout + status.stderr);
  assert.match(status.stdout, /etcd/);
  assert.match(status.stdout, /apiserver/);

  const history = (await (await fetch(`${a.url}/api/v1/history/local`)).json()) as { events: { probe: string; to: string }[] };
  assert.ok(
    history.events.some((e) => e.probe === 'etcd' && e.to === 'ok'),
    JSON.stringify(history),
  );

  a.kill('SIGTERM');
  assert.equal((await a.exited).code, 0, a.logs.join('\n'));
  // The timeline outlives the process: a second run of the bundle reads it back.
  agent = await spawnAgent({ built: bundle, args: ['--storage.path', storage] });
  const again = (await (await fetch(`${agent.url}/api/v1/history/local?probe=etcd`)).json()) as { events: { probe: string }[] };
  assert.ok(again.events.length > 0, 'history kept across restarts');
  agent.kill('SIGTERM');
  assert.equal((await agent.exited).code, 0);
});
