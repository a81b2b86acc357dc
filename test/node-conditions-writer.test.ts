// The node condition writer against the API simulator through the real client: what lands on the
// Node and in Events, how often, and what it does while the API server is down or refuses it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';
import { Registry } from 'prom-client';
import { lazyKubeClients } from '../src/k8s/client.ts';
import { NodeConditionWriter } from '../src/conditions/writer.ts';
import type { DesiredCondition } from '../src/conditions/desired.ts';
import { createLogger } from '../src/log.ts';
import { kubernetesWriteMetrics } from '../src/metrics/metrics.ts';
import { FakeClock } from './support/fake-clock.ts';
import { K8sProbeEnv, sample, until } from './support/k8s-probe-env.ts';

let env: K8sProbeEnv;
before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8'] });
});
after(() => env.stop());
beforeEach(() => {
  env.sim.reset();
  env.sim.requests.length = 0;
});

const MIN = 30_000;
const HEARTBEAT = 300_000;
function writer(node: string, clock = new FakeClock()) {
  const logs: { level: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  const registry = new Registry();
  const w = new NodeConditionWriter({
    node,
    kubernetes: lazyKubeClients({ kubeconfig: env.kubeconfig, namespace: 'vigil' }),
    clock,
    logger: createLogger('info', sink),
    metrics: kubernetesWriteMetrics(registry),
    minIntervalMs: MIN,
    heartbeatMs: HEARTBEAT,
    backoffMs: 5_000,
  });
  const step = async (ms = 0) => {
    await clock.advance(ms);
    await w.idle();
  };
  const count = (kind: string, result: string) => sample({ registry }, 'vigil_kubernetes_writes_total', { kind, result });
  return { w, clock, step, logs, count };
}

const pod = (status: 'True' | 'False', message = status === 'True' ? 'ErrImagePull' : 'starts'): DesiredCondition => ({ type: 'VigilPodStartup', status, reason: status === 'True' ? 'ImagePullFailing' : 'ProbePodStarts', message });
const up = { down: false, lastOkAt: null };
interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastHeartbeatTime: string;
}
const conditions = (node: string) => (env.sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as Cond[];
const cond = (node: string, type = 'VigilPodStartup') => conditions(node).find((c) => c.type === type);
const patches = () => env.sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status'));
const events = (node: string) =>
  env.sim.store.list('events').filter((e) => (e as unknown as { involvedObject: { name: string } }).involvedObject.name === node) as unknown as {
    type: string;
    reason: string;
    message: string;
    source: { component: string };
    reportingComponent: string;
  }[];
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

void test("a problem is written at once with a Warning event; a new message waits for the minimum interval; lastTransitionTime is kept until the status changes; recovery is a Normal event; the kubelet's Ready is untouched", async () => {
  const { w, clock, step } = writer('w1');
  const ready = structuredClone(conditions('w1').find((c) => c.type === 'Ready'));
  const t0 = clock.now();
  w.observe([pod('True')], up);
  await step();
  assert.deepEqual({ ...cond('w1'), lastHeartbeatTime: undefined }, { type: 'VigilPodStartup', status: 'True', reason: 'ImagePullFailing', message: 'ErrImagePull', lastTransitionTime: iso(t0), lastHeartbeatTime: undefined });
  assert.deepEqual(
    conditions('w1').find((c) => c.type === 'Ready'),
    ready,
    "the kubelet's condition as it was",
  );
  assert.deepEqual(
    events('w1').map((e) => `${e.type} ${e.reason} ${e.source.component}/${e.reportingComponent}`),
    ['Warning ImagePullFailing vigil/vigil'],
  );

  w.observe([pod('True', 'ErrImagePull: 403')], up);
  await step(1000);
  assert.equal(patches().length, 1, 'a new message with the same status waits');
  await step(MIN);
  assert.equal(patches().length, 2);
  assert.equal(cond('w1')!.message, 'ErrImagePull: 403');
  assert.equal(cond('w1')!.lastTransitionTime, iso(t0), 'kept: the status did not change');
  assert.equal(cond('w1')!.lastHeartbeatTime, iso(t0 + MIN), 'written when the interval since the last write ended');
  assert.equal(events('w1').length, 1, 'no event without a transition');

  await step(HEARTBEAT);
  assert.equal(patches().length, 3, 'a heartbeat with nothing new');
  assert.equal(cond('w1')!.lastTransitionTime, iso(t0));

  const t1 = clock.now();
  w.observe([pod('False')], up);
  await step();
  assert.equal(cond('w1')!.status, 'False');
  assert.equal(cond('w1')!.lastTransitionTime, iso(t1));
  assert.deepEqual(
    events('w1').map((e) => `${e.type} ${e.reason}`),
    ['Warning ImagePullFailing', 'Normal ProbePodStarts'],
  );
  assert.deepEqual(
    conditions('w1').find((c) => c.type === 'Ready'),
    ready,
  );
  await w.stop();
});

void test('many observations between writes coalesce into one patch carrying every condition', async () => {
  const { w, step } = writer('w2');
  for (let i = 0; i < 50; i++) w.observe([pod('False'), { type: 'VigilClock', status: 'False', reason: 'ClockInSync', message: `run ${i}` }], up);
  await step();
  assert.equal(patches().length, 1);
  assert.deepEqual(
    conditions('w2').map((c) => `${c.type}=${c.status}`),
    ['Ready=True', 'VigilPodStartup=False', 'VigilClock=False'],
  );
  assert.equal(events('w2').length, 0, 'a first False is no transition');
  await w.stop();
});

void test("while the API server's probe says it is down nothing is sent; a failed write holds the next until the back-off ends or the API server is seen ok again", async () => {
  const { w, clock, step, count } = writer('w3');
  w.observe([pod('True')], { down: true, lastOkAt: null });
  await step(60_000);
  assert.equal(env.sim.requests.length, 0, 'no request at all while down');
  assert.ok((await count('node-condition', 'skipped'))! >= 1, 'counted as held back');
  w.observe([pod('True')], { down: false, lastOkAt: clock.now() });
  await step();
  assert.equal(cond('w3')!.status, 'True', 'written once the API server is back');

  // The API server fails a write (503): the next change waits for the back-off, not for the next probe result.
  env.sim.faults.set({ errorBurst: { count: 1, code: 503 } });
  env.sim.requests.length = 0;
  w.observe([pod('False')], up);
  await step();
  assert.deepEqual(
    patches().map((r) => r.code),
    [503],
  );
  assert.equal(await count('node-condition', 'error'), 1);
  for (let i = 0; i < 5; i++) {
    w.observe([pod('False')], up);
    await step(500);
  }
  assert.equal(patches().length, 1, 'nothing more during the back-off');
  // the API server's probe reports ok after the failure: no need to wait out the back-off
  w.observe([pod('False')], { down: false, lastOkAt: clock.now() });
  await step();
  assert.deepEqual(
    patches().map((r) => r.code),
    [503, 200],
  );
  assert.equal(cond('w3')!.status, 'False');
  await w.stop();
});

void test('a 403 (RBAC without nodes/status) is logged once however often it recurs, counted, and retried on a doubling back-off', async () => {
  const { w, step, logs, count } = writer('w4');
  env.sim.faults.set({ rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] });
  w.observe([pod('True')], up);
  await step();
  for (let i = 0; i < 4; i++) await step(60_000);
  const tries = patches().length;
  assert.ok(tries >= 3, `retried (${tries} tries)`);
  assert.ok(tries <= 6, `on a back-off, not at every step (${tries} tries)`);
  assert.equal(await count('node-condition', 'forbidden'), tries);
  const warned = logs.filter((l) => l.level === 'warn');
  assert.equal(warned.length, 1, JSON.stringify(warned));
  assert.match(warned[0]!.msg, /^node conditions: patch nodes\/w4\/status: forbidden: system:serviceaccount:vigil:vigil may not patch nodes\/status cluster-wide/);
  env.sim.faults.set({ rbac: undefined });
  await step(120_000);
  assert.equal(cond('w4')!.status, 'True', 'written once the permission is granted');
  assert.ok(logs.some((l) => l.level === 'info' && /written again/.test(l.msg)));
  await w.stop();
});

void test('a restarted agent keeps lastTransitionTime of a status that still holds, and tells a recovery it did not see begin', async () => {
  const first = writer('w5');
  const t0 = first.clock.now();
  first.w.observe([pod('True'), { type: 'VigilClock', status: 'False', reason: 'ClockInSync', message: 'in sync' }], up);
  await first.step();
  await first.w.stop();
  const second = writer('w5', new FakeClock(t0 + 3_600_000));
  second.w.observe([pod('False'), { type: 'VigilClock', status: 'False', reason: 'ClockInSync', message: 'in sync' }], up);
  await second.step();
  assert.equal(cond('w5', 'VigilClock')!.lastTransitionTime, iso(t0), 'kept across the restart');
  assert.equal(cond('w5')!.lastTransitionTime, iso(t0 + 3_600_000));
  assert.deepEqual(
    events('w5').map((e) => `${e.type} ${e.reason}`),
    ['Warning ImagePullFailing', 'Normal ProbePodStarts'],
  );
  await second.w.stop();
});

void test('a condition the Node carries with no lastTransitionTime (null) is written with one: the server refuses an empty time, which would block every later write', async () => {
  env.sim.store.update('nodes', undefined, 'w7', (n) => {
    n.status = {
      ...n.status,
      conditions: [...((n.status?.conditions as Cond[] | undefined) ?? []), { type: 'VigilPodStartup', status: 'True', reason: 'ImagePullFailing', message: 'ErrImagePull', lastHeartbeatTime: null, lastTransitionTime: null }],
    };
  });
  const { w, clock, step, count } = writer('w7');
  w.observe([pod('True')], up);
  await step();
  assert.equal(await count('node-condition', 'error'), 0, 'no write refused');
  assert.equal(cond('w7')!.lastTransitionTime, iso(clock.now()), 'unknown until now: the time it was first seen');
  assert.equal(cond('w7')!.lastHeartbeatTime, iso(clock.now()));
  w.observe([pod('False')], up);
  await step(MIN);
  assert.equal(cond('w7')!.status, 'False', 'later writes go through');
  await w.stop();
});

void test("a write refused as invalid (422, a validating admission policy) is logged in the server's words, and the Node is read again before the next write", async () => {
  const { w, clock, step, logs, count } = writer('w8');
  const t0 = clock.now();
  w.observe([pod('False')], up);
  await step();
  assert.equal(cond('w8')!.lastTransitionTime, iso(t0));
  // Someone removes the condition from the Node, and a policy refuses the agent's next write once.
  env.sim.store.update('nodes', undefined, 'w8', (n) => {
    n.status = { ...n.status, conditions: ((n.status?.conditions ?? []) as Cond[]).filter((c) => c.type !== 'VigilPodStartup') };
  });
  env.sim.faults.set({ policies: [{ policy: 'node-status-guard', binding: 'node-status-guard-binding', verb: 'patch', resource: 'nodes/status', message: 'conditions are frozen during maintenance', count: 1 }] });
  env.sim.requests.length = 0;
  w.observe([pod('False', 'starts again')], up);
  await step(MIN);
  assert.deepEqual(
    patches().map((r) => r.code),
    [422],
  );
  assert.equal(await count('node-condition', 'error'), 1);
  assert.ok(
    logs.some(
      (l) =>
        l.level === 'warn' &&
        l.msg.includes(
          "patch nodes/w8/status: API server answered 422 Invalid: nodes \"w8\" is forbidden: ValidatingAdmissionPolicy 'node-status-guard' with binding 'node-status-guard-binding' denied request: conditions are frozen during maintenance",
        ),
    ),
    JSON.stringify(logs),
  );
  // After the back-off: the Node read again, then written from what it carries. The condition is
  // not there any more, so it is written anew, with the time of this write as its transition time.
  await step(5_000);
  const after = env.sim.requests.map((r) => `${r.method} ${r.path} ${r.code}`);
  assert.deepEqual(after, ['PATCH /api/v1/nodes/w8/status 422', 'GET /api/v1/nodes/w8 200', 'PATCH /api/v1/nodes/w8/status 200']);
  assert.equal(cond('w8')!.status, 'False');
  assert.equal(cond('w8')!.lastTransitionTime, iso(clock.now()), 'not the transition time of a condition the Node no longer carried');
  await w.stop();
});

void test('an event that cannot be created (RBAC without events) is dropped and counted; the condition is still written', async () => {
  const { w, step, count } = writer('w6');
  env.sim.faults.set({ rbac: [{ apiGroups: [''], resources: ['nodes', 'nodes/status'], verbs: ['get', 'patch'] }] });
  w.observe([pod('True')], up);
  await step();
  await until(async () => (await count('event', 'forbidden')) === 1, 'the refused event counted');
  assert.equal(cond('w6')!.status, 'True');
  assert.equal(events('w6').length, 0);
  await w.stop();
});
