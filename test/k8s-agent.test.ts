// Kubernetes probes inside a running agent: kill -9 mid-probe, an API outage, a stale lease.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent, type Agent } from '../src/agent.ts';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { ProbeRegistry } from '../src/probes/registry.ts';
import { K8sProbeEnv, until } from './support/k8s-probe-env.ts';

let env: K8sProbeEnv;
const children = new Set<ChildProcess>();

before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1', 'n2'] });
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env.stop();
});

const probePods = () => env.sim.store.list('pods').filter((p) => p.metadata.labels?.['vigil.io/probe'] === 'pod-scheduling');

/** Starts `vigil agent` as a child process; resolves with its URL once it listens. */
async function spawnAgent(configFile: string, storage: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../src/cli/main.ts'), 'agent', '--config.file', configFile, '--storage.path', storage, '--web.listen-address', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${out}`)));
  });
  return { child, url };
}

async function metricValue(url: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

void test('kill -9 of the agent mid-probe leaves a pod; the restarted agent reaps it and leaves none after its run', async () => {
  const configFile = path.join(env.dir, 'agent-kill.yaml');
  writeFileSync(configFile, env.configText('n1', { 'pod-scheduling': { interval: '30s', timeout: '20s', startupTimeout: '15s', schedulingTimeout: '5s', deletionTimeout: '5s' } }));
  const storage = path.join(env.dir, 'data-kill');
  env.sim.behaviours.set({ startDelayMs: 60_000 }, 'n1'); // the first agent never sees its pod run
  const first = await spawnAgent(configFile, storage);
  const leftover = await until(() => probePods()[0], 'the first agent to create its probe pod', 60_000);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  assert.equal(probePods().length, 1, 'the killed agent left its pod behind');

  env.sim.behaviours.set({ startDelayMs: 100 }, 'n1');
  const second = await spawnAgent(configFile, storage);
  try {
    await until(async () => (await metricValue(second.url, /vigil_probe_runs_total\{probe="pod-scheduling"\}/)) === 1, 'the first run of the restarted agent', 60_000);
    assert.equal(await metricValue(second.url, /vigil_probe_success\{probe="pod-scheduling"\}/), 1);
    assert.equal(await metricValue(second.url, /vigil_pod_probe_reaped_total/), 1);
    assert.deepEqual(probePods(), [], 'no probe pod left after the run');
    assert.ok(!env.sim.store.list('pods').some((p) => p.metadata.uid === leftover.metadata.uid));
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
});

void test('stopping the agent mid-run leaves no probe pod: a pod being deleted is waited for, a starting one deleted on the way out', async () => {
  const storage = path.join(env.dir, 'data-stop');
  const pods = { interval: '30s', timeout: '25s', schedulingTimeout: '5s', startupTimeout: '15s', deletionTimeout: '10s' };

  // SIGTERM while the kubelet confirms the deletion (~2 s): the run ends within the shutdown grace.
  const deleting = path.join(env.dir, 'agent-stop-deleting.yaml');
  writeFileSync(deleting, env.configText('n1', { 'pod-scheduling': pods }));
  const a = await spawnAgent(deleting, storage);
  await until(() => probePods()[0]?.metadata.deletionTimestamp, 'the probe pod to be terminating', 15_000);
  a.child.kill('SIGTERM');
  assert.equal(await new Promise((r) => a.child.once('exit', r)), 0);
  assert.deepEqual(probePods(), [], 'the agent waited for the kubelet to confirm the deletion before exiting');

  // SIGTERM while the pod is still starting, with a shutdown grace shorter than the run: the
  // aborted run deletes its pod before the process exits.
  env.sim.behaviours.set({ startDelayMs: 60_000 }, 'n1');
  const starting = path.join(env.dir, 'agent-stop-starting.yaml');
  writeFileSync(starting, env.configText('n1', { 'pod-scheduling': pods }, { shutdown: { gracePeriod: '1s' } }));
  const b = await spawnAgent(starting, storage);
  await until(() => probePods()[0]?.spec?.nodeName === 'n1', 'the probe pod to be bound', 15_000);
  b.child.kill('SIGTERM');
  assert.equal(await new Promise((r) => b.child.once('exit', r)), 0);
  assert.deepEqual(probePods(), [], 'the aborted run deleted its pod before the agent exited');
  env.sim.behaviours.reset();
});

void test('an API outage makes every Kubernetes probe critical while the agent keeps serving /metrics; a stale lease is named', async () => {
  const fast = { interval: '1s', timeout: '800ms' };
  // A probe pod run lasts as long as its kubelet takes to confirm the deletion (~2 s, as a real one).
  const podRuns = { interval: '4s', timeout: '3500ms', schedulingTimeout: '300ms', startupTimeout: '400ms', deletionTimeout: '5s' };
  const config = loadConfig({
    probes: builtinProbes,
    file: { name: 'agent.yaml', text: env.configText('n2', { apiserver: fast, 'control-plane': { ...fast, maxLeaseAge: '3s' }, 'pod-scheduling': podRuns }) },
    flags: { 'web.listen-address': '127.0.0.1:0', 'storage.path': path.join(env.dir, 'data-outage') },
  });
  const agent: Agent = await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger: silentLogger() });
  try {
    const verdict = (probe: string) => agent.status.snapshot().probes.find((p) => p.name === probe);
    const names = ['apiserver', 'control-plane', 'pod-scheduling'];
    await until(() => names.every((n) => verdict(n)?.verdict === 'ok'), 'every probe ok', 20_000);

    await env.sim.suspend();
    // A run under way when the listener closed may see its connection reset, and a pod run ends
    // blind; the next ones are refused, the pod run on its first call. Waited for as asserted below:
    // a run its timeout cut short is critical too, but not refused, and counted as "timeout".
    const refused = (n: string) => /cannot reach the API server: ECONNREFUSED/.test(verdict(n)?.message ?? '');
    const down = await until(
      () =>
        names.every((n) => verdict(n)?.verdict === 'critical') &&
        refused('apiserver') &&
        verdict('control-plane')?.reason === 'api-error' &&
        /^read node n2: cannot reach the API server: ECONNREFUSED/.test(verdict('pod-scheduling')?.message ?? '')
          ? verdict('apiserver')
          : undefined,
      'critical verdicts, the API server refusing connections',
      30_000,
    ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(names.map((n) => [n, verdict(n)?.reason, verdict(n)?.message]))}`));
    assert.match(verdict('pod-scheduling')?.message ?? '', /^read node n2: cannot reach the API server: ECONNREFUSED/);
    assert.match(down.message ?? '', /cannot reach the API server: ECONNREFUSED/);
    const res = await fetch(`${agent.url}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /^vigil_probe_success\{probe="apiserver"\} 0$/m);
    assert.match(body, /^vigil_probe_failures_total\{probe="control-plane",reason="api-error"\} [1-9]/m);

    // A lease unrenewed across the outage is named once the leaders had maxLeaseAge (here 3 s) to take it back.
    env.sim.controlPlane.set('kube-scheduler', { ageSeconds: 300 });
    await env.sim.resume();
    const stale = await until(() => (verdict('control-plane')?.reason === 'lease-stale' ? verdict('control-plane') : undefined), 'the stale lease to be reported', 20_000);
    assert.match(stale.message ?? '', /^kube-scheduler is down: its leader lease kube-system\/kube-scheduler was last renewed 30\d s ago/);
    await until(() => verdict('apiserver')?.verdict === 'ok' && verdict('pod-scheduling')?.verdict === 'ok', 'apiserver and pod-scheduling ok again after the outage', 20_000);
  } finally {
    await agent.stop();
    env.sim.controlPlane.set('kube-scheduler', { autoRenew: true });
  }
});
