// kubernetes.nodeConditions in a running agent against the API simulator: what `kubectl describe
// node` shows when a node's kubelet cannot start the probe pod, and what the agent does when the
// option is off, the API server is down, or RBAC does not allow the write.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';
import { startAgent, type Agent } from '../src/agent.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { ProbeRegistry } from '../src/probes/registry.ts';
import { K8sProbeEnv, until } from './support/k8s-probe-env.ts';
import { grantedRules, rbacDocs } from './support/rbac-rules.ts';

let env: K8sProbeEnv;
before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1', 'n2', 'n3', 'n4', 'n5'] });
});
after(() => env.stop());
beforeEach(() => env.sim.reset());

const PULL_ERROR = 'failed to pull and unpack image "registry.k8s.io/pause:3.10": 403 Forbidden';

async function agentOn(node: string, nodeConditions: boolean): Promise<{ agent: Agent; logs: { level: string; msg: string }[] }> {
  const fast = { interval: '1s', timeout: '800ms' };
  const config = loadConfig({
    probes: builtinProbes,
    file: {
      name: 'agent.yaml',
      text: env.configText(
        node,
        { apiserver: fast, 'pod-scheduling': { interval: '4s', timeout: '3500ms', schedulingTimeout: '500ms', startupTimeout: '600ms', deletionTimeout: '5s' } },
        nodeConditions ? { kubernetes: { kubeconfig: env.kubeconfig, namespace: 'vigil', nodeConditions: true } } : {},
      ),
    },
    flags: { 'web.listen-address': '127.0.0.1:0', 'storage.path': path.join(env.dir, `data-${node}`) },
  });
  const logs: { level: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  return { agent: await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger: createLogger('info', sink) }), logs };
}

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastHeartbeatTime: string;
}
const conditions = (node: string) => (env.sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as Cond[];
const cond = (node: string) => conditions(node).find((c) => c.type === 'VigilPodStartup');
const events = (node: string) =>
  env.sim.store.list('events').filter((e) => (e as unknown as { involvedObject: { name: string } }).involvedObject.name === node) as unknown as { type: string; reason: string; message: string; involvedObject: { kind: string } }[];
const verdict = (agent: Agent, probe: string) => agent.status.snapshot().probes.find((p) => p.name === probe);
async function metric(agent: Agent, line: string): Promise<number | undefined> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  const at = text.split('\n').find((l) => l.startsWith(`${line} `));
  return at === undefined ? undefined : Number(at.slice(line.length + 1));
}

void test("a node whose kubelet cannot pull the probe pod's image gets VigilPodStartup=True with reason and message, then False once pulls work; an event per transition; the kubelet's Ready untouched", async () => {
  const ready = structuredClone(conditions('n1').find((c) => c.type === 'Ready'));
  env.sim.behaviours.set({ imagePullError: PULL_ERROR }, 'n1');
  const { agent } = await agentOn('n1', true);
  try {
    const bad = await until(() => (cond('n1')?.status === 'True' ? cond('n1') : undefined), 'VigilPodStartup=True on n1', 30_000);
    // the time the probe's verdict changed, not the time of the write
    assert.equal(bad.lastTransitionTime, verdict(agent, 'pod-scheduling')!.since!.replace(/\.\d+Z$/, 'Z'));
    assert.equal(bad.reason, 'ImagePullFailing');
    assert.match(bad.message, /^the probe pod does not start on n1 \(kubelet or container runtime\): on node n1: .*403 Forbidden/);
    assert.ok(bad.lastTransitionTime && bad.lastHeartbeatTime);
    assert.deepEqual(
      conditions('n1').find((c) => c.type === 'Ready'),
      ready,
      "the kubelet's condition is not touched",
    );
    await until(() => events('n1').length === 1, 'the Warning event');
    assert.deepEqual(
      events('n1').map((e) => `${e.type} ${e.reason} ${e.involvedObject.kind}`),
      ['Warning ImagePullFailing Node'],
    );

    env.sim.behaviours.reset();
    const good = await until(() => (cond('n1')?.status === 'False' ? cond('n1') : undefined), 'VigilPodStartup=False on n1', 30_000);
    assert.equal(good.reason, 'ProbePodStarts');
    assert.equal(good.lastTransitionTime, verdict(agent, 'pod-scheduling')!.since!.replace(/\.\d+Z$/, 'Z'));
    assert.ok(good.lastTransitionTime > bad.lastTransitionTime, `the transition time moved (${bad.lastTransitionTime} → ${good.lastTransitionTime})`);
    await until(() => events('n1').length === 2, 'the recovery event');
    assert.deepEqual(
      events('n1').map((e) => `${e.type} ${e.reason}`),
      ['Warning ImagePullFailing', 'Normal ProbePodStarts'],
    );
    assert.deepEqual(
      conditions('n1').find((c) => c.type === 'Ready'),
      ready,
    );
    assert.equal(conditions('n2').filter((c) => c.type.startsWith('Vigil')).length, 0, 'only its own node');
  } finally {
    await agent.stop();
  }
});

void test('with nodeConditions off (the default) the agent writes nothing to the API, whatever its probes find', async () => {
  env.sim.behaviours.set({ imagePullError: PULL_ERROR }, 'n2');
  env.sim.requests.length = 0;
  const { agent } = await agentOn('n2', false);
  try {
    await until(async () => ((await metric(agent, 'vigil_probe_failures_total{probe="pod-scheduling",reason="image-pull"}')) ?? 0) >= 2, 'two image-pull failures', 30_000);
    const writes = env.sim.requests.filter((r) => (r.method === 'PATCH' && r.resource === 'nodes') || r.resource === 'events');
    assert.deepEqual(writes, []);
    assert.equal(conditions('n2').filter((c) => c.type.startsWith('Vigil')).length, 0);
    assert.doesNotMatch(await (await fetch(`${agent.url}/metrics`)).text(), /vigil_kubernetes_writes_total/);
  } finally {
    await agent.stop();
  }
});

void test('while the API server is down probes keep running and no write is attempted; once it is back, what changed meanwhile is written', async () => {
  env.sim.behaviours.set({ imagePullError: PULL_ERROR }, 'n3');
  const { agent } = await agentOn('n3', true);
  const writes = async (result: string) => (await metric(agent, `vigil_kubernetes_writes_total{kind="node-condition",result="${result}"}`)) ?? 0;
  try {
    await until(() => cond('n3')?.status === 'True', 'VigilPodStartup=True on n3', 30_000);
    await env.sim.suspend();
    env.sim.behaviours.reset(); // the node is fixed during the outage
    await until(() => verdict(agent, 'apiserver')?.verdict === 'critical', 'the apiserver probe to see the outage');
    const before = { ok: await writes('ok'), error: await writes('error'), runs: (await metric(agent, 'vigil_probe_runs_total{probe="apiserver"}'))! };
    await until(async () => (await metric(agent, 'vigil_probe_runs_total{probe="apiserver"}'))! >= before.runs + 4, 'four more apiserver runs during the outage', 30_000);
    assert.equal(await writes('error'), before.error, 'no write attempted while the API server is down');
    assert.equal(await writes('ok'), before.ok);
    await env.sim.resume();
    const good = await until(() => (cond('n3')?.status === 'False' ? cond('n3') : undefined), 'VigilPodStartup=False after the outage', 30_000);
    assert.equal(good.reason, 'ProbePodStarts');
    await until(() => events('n3').some((e) => e.type === 'Normal'), 'the recovery event');
  } finally {
    await env.sim.resume();
    await agent.stop();
  }
});

void test('RBAC without nodes/status patch: logged once, counted as forbidden, probes unaffected', async () => {
  env.sim.behaviours.set({ imagePullError: PULL_ERROR }, 'n4');
  env.sim.faults.set({ denials: [{ verb: 'patch', resource: 'nodes/status' }] });
  const { agent, logs } = await agentOn('n4', true);
  try {
    await until(async () => ((await metric(agent, 'vigil_kubernetes_writes_total{kind="node-condition",result="forbidden"}')) ?? 0) >= 2, 'two refused writes', 30_000);
    const warned = logs.filter((l) => l.level === 'warn' && /nodes\/status/.test(l.msg));
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0]!.msg, /forbidden: system:serviceaccount:vigil:vigil may not patch nodes\/status cluster-wide/);
    assert.equal(verdict(agent, 'pod-scheduling')?.reason, 'image-pull', 'the probe still reports what it sees');
    assert.equal(verdict(agent, 'apiserver')?.verdict, 'ok');
    assert.equal(conditions('n4').filter((c) => c.type.startsWith('Vigil')).length, 0);
  } finally {
    await agent.stop();
  }
});

void test('with exactly the RBAC of deploy/base and deploy/components/node-conditions, the condition and its event are written; with deploy/base alone, neither', async () => {
  env.sim.behaviours.set({ imagePullError: PULL_ERROR }, 'n5');
  env.sim.faults.set({ rbac: grantedRules(rbacDocs('deploy/base/rbac.yaml')) });
  const first = await agentOn('n5', true);
  try {
    await until(async () => ((await metric(first.agent, 'vigil_kubernetes_writes_total{kind="node-condition",result="forbidden"}')) ?? 0) >= 1, 'the write refused without the component', 30_000);
    assert.equal(cond('n5'), undefined);
  } finally {
    await first.agent.stop();
  }
  env.sim.faults.set({ rbac: grantedRules(rbacDocs('deploy/base/rbac.yaml', 'deploy/components/node-conditions/rbac.yaml')) });
  const second = await agentOn('n5', true);
  try {
    await until(() => cond('n5')?.status === 'True', 'VigilPodStartup=True on n5', 30_000);
    await until(() => events('n5').length === 1, 'its event');
    assert.equal(await metric(second.agent, 'vigil_kubernetes_writes_total{kind="event",result="forbidden"}'), 0);
    assert.equal(verdict(second.agent, 'pod-scheduling')?.reason, 'image-pull', 'the probes pass with these rules too');
  } finally {
    await second.agent.stop();
  }
});
