// The API simulator's own semantics, checked through the real @kubernetes/client-node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CoreV1Api, KubeConfig, Watch, makeInformer, type V1Pod } from '@kubernetes/client-node';
import type { ApiSim } from './support/apisim/index.ts';
import { startSimWithClient, type SimWithClient } from './support/apisim/client.ts';
import { until } from './support/k8s-probe-env.ts';

let sim: ApiSim;
let core: CoreV1Api;
let kc: KubeConfig;
let env: SimWithClient;

before(async () => {
  env = await startSimWithClient(['n1', 'n2', 'n3']);
  ({ sim, core, kc } = env);
});
after(() => env.stop());
beforeEach(async () => {
  sim.reset();
  for (const p of (await core.listNamespacedPod({ namespace: 'vigil' })).items) await core.deleteNamespacedPod({ namespace: 'vigil', name: p.metadata!.name!, gracePeriodSeconds: 0 });
});

const podBody = (name: string, labels: Record<string, string> = {}, node?: string): V1Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}) },
});

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; body: string };
    return { code: e.code, body: JSON.parse(e.body) as Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
}

interface Seen {
  type: string;
  name: string;
  rv: number;
  obj: Record<string, unknown> & { code?: number; reason?: string; message?: string; status?: { phase?: string } };
}
/** Opens a watch and collects its events until closed. */
async function watch(pathname: string, query: Record<string, string | number | undefined>) {
  const events: Seen[] = [];
  let done: Error | null | undefined;
  const ctl = await new Watch(kc).watch(
    pathname,
    query,
    (type, obj: Seen['obj'] & { metadata?: { name: string; resourceVersion: string } }) => events.push({ type, name: obj.metadata?.name ?? '', rv: Number(obj.metadata?.resourceVersion), obj }),
    (err: Error | null) => {
      done = err;
    },
  );
  return { events, ctl, done: () => done };
}

void test('resourceVersions rise cluster-wide; a list carries the version to watch from', async () => {
  const a = await core.createNamespacedPod({ namespace: 'vigil', body: podBody('a') });
  const b = await core.createNamespacedPod({ namespace: 'vigil', body: podBody('b') });
  assert.ok(Number(b.metadata!.resourceVersion) > Number(a.metadata!.resourceVersion));
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  assert.ok(Number(list.metadata!.resourceVersion) >= Number(b.metadata!.resourceVersion));
  assert.deepEqual(list.items.map((p) => p.metadata!.name).sort(), ['a', 'b']);
});

void test('lists page with limit and continue', async () => {
  for (const n of ['p1', 'p2', 'p3']) await core.createNamespacedPod({ namespace: 'vigil', body: podBody(n) });
  const page1 = await core.listNamespacedPod({ namespace: 'vigil', limit: 2 });
  assert.deepEqual(
    page1.items.map((p) => p.metadata!.name),
    ['p1', 'p2'],
  );
  assert.equal(page1.metadata!.remainingItemCount, 1);
  const page2 = await core.listNamespacedPod({ namespace: 'vigil', limit: 2, _continue: page1.metadata!._continue });
  assert.deepEqual(
    page2.items.map((p) => p.metadata!.name),
    ['p3'],
  );
  assert.equal(page2.metadata!._continue, undefined);
});

void test('a watch from a resourceVersion replays what happened after it, then follows live', async () => {
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('early', { w: '1' }) });
  const w = await watch('/api/v1/namespaces/vigil/pods', { resourceVersion: list.metadata!.resourceVersion, labelSelector: 'w=1' });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('late', { w: '1' }) });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('other', { w: '2' }) });
  await until(() => w.events.some((e) => e.name === 'late'), 'the live event');
  w.ctl.abort();
  const added = w.events.filter((e) => e.type === 'ADDED').map((e) => e.name);
  assert.deepEqual(added.slice(0, 2), ['early', 'late'], 'the replayed event comes first; the unselected pod never');
  assert.ok(!w.events.some((e) => e.name === 'other'));
  const rvs = w.events.map((e) => e.rv);
  assert.deepEqual(
    rvs,
    [...rvs].sort((x, y) => x - y),
    'events arrive in resourceVersion order',
  );
});

void test('a watch without a resourceVersion starts with ADDED for every current object', async () => {
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('x1') });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('x2') });
  const w = await watch('/api/v1/namespaces/vigil/pods', {});
  await until(() => w.events.length >= 2, 'the initial events');
  w.ctl.abort();
  assert.deepEqual(
    w.events.slice(0, 2).map((e) => `${e.type} ${e.name}`),
    ['ADDED x1', 'ADDED x2'],
  );
});

void test('a watch from a compacted resourceVersion gets an ERROR event with a 410 Expired Status, then the stream ends', async () => {
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('c1') });
  await fetch(`${sim.url}/_sim/compact`, { method: 'POST' });
  const w = await watch('/api/v1/namespaces/vigil/pods', { resourceVersion: list.metadata!.resourceVersion });
  await until(() => w.done() !== undefined, 'the stream to end');
  assert.equal(w.events.length, 1);
  assert.equal(w.events[0]!.type, 'ERROR');
  assert.equal(w.events[0]!.obj.code, 410);
  assert.equal(w.events[0]!.obj.reason, 'Expired');
  assert.match(w.events[0]!.obj.message ?? '', /^too old resource version: \d+ \(\d+\)$/);
});

void test('field selectors filter lists and watches; a pod that stops matching leaves the watch as DELETED', async () => {
  sim.behaviours.set({ schedulingDelayMs: 0, startDelayMs: 50 });
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const w = await watch('/api/v1/namespaces/vigil/pods', { resourceVersion: list.metadata!.resourceVersion, fieldSelector: 'status.phase=Pending' });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('f1', {}, 'n2') });
  await until(() => w.events.some((e) => e.type === 'DELETED'), 'the pod to leave Pending');
  w.ctl.abort();
  assert.equal(w.events[0]!.type, 'ADDED');
  assert.equal(w.events.at(-1)!.type, 'DELETED');
  const exit = w.events.at(-1)!;
  assert.equal(exit.obj.status?.phase, 'Pending', 'the object as it last matched (cache_watcher.go convertToWatchEvent)');
  const lastMatching = w.events.at(-2)!.rv;
  assert.ok(exit.rv > lastMatching, `at the leaving event's resourceVersion (${exit.rv}), not the state's own (${lastMatching})`);
  const onN2 = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'spec.nodeName=n2' });
  const onN1 = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'spec.nodeName=n1' });
  assert.deepEqual([onN2.items.length, onN1.items.length], [1, 0]);
  const byName = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'metadata.name=f1' });
  assert.equal(byName.items.length, 1);
  const bad = await apiError(core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'spec.color=red' }));
  assert.equal(bad.code, 400);
  assert.equal(bad.body.message, 'field label not supported: spec.color');
});

void test('errors come as Status bodies with the real codes, reasons and messages', async () => {
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('dup') });
  const exists = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: podBody('dup') }));
  assert.deepEqual([exists.code, exists.body.reason, exists.body.message], [409, 'AlreadyExists', 'pods "dup" already exists']);
  const missing = await apiError(core.readNamespacedPod({ namespace: 'vigil', name: 'nope' }));
  assert.deepEqual([missing.code, missing.body.reason, missing.body.message], [404, 'NotFound', 'pods "nope" not found']);
  const invalid = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: { metadata: { name: 'bad' }, spec: { containers: [] } } }));
  assert.deepEqual([invalid.code, invalid.body.reason, invalid.body.message], [422, 'Invalid', 'Pod "bad" is invalid: spec.containers: Required value']);

  sim.faults.set({
    denials: [
      { verb: 'create', resource: 'pods', namespace: 'vigil' },
      { verb: 'get', resource: 'nodes' },
    ],
  });
  const denied = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: podBody('x') }));
  assert.equal(denied.code, 403);
  assert.equal(denied.body.message, 'pods is forbidden: User "system:serviceaccount:vigil:vigil" cannot create resource "pods" in API group "" in the namespace "vigil"');
  const nodeDenied = await apiError(core.readNode({ name: 'n1' }));
  assert.equal(nodeDenied.body.message, 'nodes "n1" is forbidden: User "system:serviceaccount:vigil:vigil" cannot get resource "nodes" in API group "" at the cluster scope');
  await core.listNamespacedPod({ namespace: 'vigil' }); // other verbs still allowed

  sim.faults.set({ denials: [], errorBurst: { count: 2, code: 500 } });
  const e1 = await apiError(core.listNamespacedPod({ namespace: 'vigil' }));
  const e2 = await apiError(core.readNode({ name: 'n1' }));
  assert.deepEqual([e1.code, e1.body.reason, e2.code], [500, 'InternalError', 500]);
  await core.listNamespacedPod({ namespace: 'vigil' }); // the burst is over
});

void test('graceful deletion marks the pod Terminating, the kubelet removes it; grace 0 removes it at once', async () => {
  sim.behaviours.set({ terminationDelayMs: 300 });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('g1', {}, 'n1') });
  await until(() => sim.store.get('pods', 'vigil', 'g1')?.status?.phase === 'Running', 'g1 running');
  const marked = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'g1', gracePeriodSeconds: 30 });
  assert.ok(marked.metadata!.deletionTimestamp, 'the answer carries the deletionTimestamp');
  assert.equal(marked.metadata!.deletionGracePeriodSeconds, 30);
  assert.ok(await core.readNamespacedPod({ namespace: 'vigil', name: 'g1' }), 'still there while terminating');
  await until(() => !sim.store.get('pods', 'vigil', 'g1'), 'the kubelet to finish the deletion');

  sim.behaviours.set({ stuckTerminating: true });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('g2', {}, 'n1') });
  await until(() => sim.store.get('pods', 'vigil', 'g2')?.status?.phase === 'Running', 'g2 running');
  const stuck = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'g2', gracePeriodSeconds: 1 });
  // The grace runs out by the deletionTimestamp the API server answered with, plus the second metav1.Time truncates.
  const graceEnds = new Date(stuck.metadata!.deletionTimestamp!).getTime() + 1000;
  await until(() => Date.now() > graceEnds, 'the grace period to run out', 15_000);
  assert.ok(sim.store.get('pods', 'vigil', 'g2')?.metadata.deletionTimestamp, 'stuck Terminating past its grace');
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'g2', gracePeriodSeconds: 0 });
  assert.equal(sim.store.get('pods', 'vigil', 'g2'), undefined, 'grace 0 removes it immediately');
});

void test('the scheduler reports Unschedulable with its message for a cordoned node; the kubelet reports pull and create failures', async () => {
  sim.cordon('n3');
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('u1', {}, 'n3') });
  const cond = await until(() => (sim.store.get('pods', 'vigil', 'u1')?.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === 'PodScheduled'), 'the condition');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.match(cond.message, /^0\/3 nodes are available: 1 node\(s\) were unschedulable, 2 node\(s\) didn't match Pod's node affinity\/selector\./, "a label selector: the NodeAffinity filter's words");
  // Pinned by metadata.name (as the probe pod is), NodeAffinity's PreFilter narrows to one node:
  // the others are reported without reaching the filters (schedule_one.go findNodesThatFitPod).
  await core.createNamespacedPod({
    namespace: 'vigil',
    body: {
      metadata: { name: 'u2' },
      spec: {
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }] } } },
      },
    },
  });
  const pinned = await until(() => (sim.store.get('pods', 'vigil', 'u2')?.status?.conditions as { type: string; message: string }[] | undefined)?.find((c) => c.type === 'PodScheduled'), "the pinned pod's condition");
  assert.match(pinned.message, /^0\/3 nodes are available: 1 node\(s\) were unschedulable, 2 node\(s\) didn't satisfy plugin\(s\) \[NodeAffinity\]\. preemption: /);
  sim.cordon('n3', false);
  await until(() => sim.store.get('pods', 'vigil', 'u1')?.spec?.nodeName === 'n3', 'scheduling after uncordon');

  sim.behaviours.set({ imagePullError: 'failed to pull and unpack image "registry.k8s.io/nope:1": not found' }, 'n1');
  sim.behaviours.set({ createContainerError: 'failed to create containerd task: OCI runtime create failed' }, 'n2');
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('i1', {}, 'n1') });
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('c1', {}, 'n2') });
  const waiting = (name: string) => (sim.store.get('pods', 'vigil', name)?.status?.containerStatuses as { state: { waiting?: { reason: string } } }[] | undefined)?.[0]?.state.waiting?.reason;
  await until(() => waiting('i1') === 'ImagePullBackOff', 'the pull back-off');
  await until(() => waiting('c1') === 'CreateContainerError', 'the create error');
});

void test('client-node informers work: list then watch, events, and a relist after a 410 on re-watch', async () => {
  const informer = makeInformer(kc, '/api/v1/namespaces/vigil/pods', () => core.listNamespacedPod({ namespace: 'vigil', labelSelector: 'app=peer' }), 'app=peer');
  const seen: string[] = [];
  informer.on('add', (p) => seen.push(`add ${p.metadata!.name}`));
  informer.on('delete', (p) => seen.push(`delete ${p.metadata!.name}`));
  await core.createNamespacedPod({ namespace: 'vigil', body: podBody('peer-a', { app: 'peer' }) });
  await informer.start();
  try {
    await until(() => seen.includes('add peer-a'), 'the listed pod');
    await core.createNamespacedPod({ namespace: 'vigil', body: podBody('peer-b', { app: 'peer' }) });
    await until(() => seen.includes('add peer-b'), 'the watched pod');
    const lists = () => sim.requests.filter((q) => q.verb === 'list' && q.query.includes('app%3Dpeer')).length;
    assert.equal(lists(), 1);
    // History is compacted and the watch ends (a server-side timeout): the re-watch from the
    // informer's resourceVersion gets 410, and the informer lists again.
    await core.deleteNamespacedPod({ namespace: 'vigil', name: 'peer-a', gracePeriodSeconds: 0 });
    await until(() => seen.includes('delete peer-a'), 'the delete event');
    await core.createNamespacedPod({ namespace: 'vigil', body: podBody('peer-c', { app: 'peer' }) });
    await until(() => seen.includes('add peer-c'), 'the pod created before the watch ended');
    await core.createNamespacedPod({ namespace: 'vigil', body: podBody('noise') }); // moves the resourceVersion past the informer's
    await fetch(`${sim.url}/_sim/compact`, { method: 'POST' });
    assert.ok(sim.closeWatches() >= 1);
    await until(() => lists() === 2, 'the relist after 410');
    await core.createNamespacedPod({ namespace: 'vigil', body: podBody('peer-d', { app: 'peer' }) });
    await until(() => seen.includes('add peer-d'), 'a pod created after the relist');
    assert.deepEqual(
      informer
        .list('vigil')
        .map((p) => p.metadata!.name)
        .sort(),
      ['peer-b', 'peer-c', 'peer-d'],
    );
  } finally {
    await informer.stop();
  }
});

void test('/livez and /readyz answer in the real verbose format, naming failing checks; /version answers', async () => {
  const ok = await fetch(`${sim.url}/readyz?verbose`);
  const okText = await ok.text();
  assert.equal(ok.status, 200);
  assert.match(okText, /^\[\+\]ping ok$/m);
  assert.match(okText, /readyz check passed\n$/);
  sim.health.failing.readyz = ['etcd'];
  const bad = await fetch(`${sim.url}/readyz?verbose`);
  const badText = await bad.text();
  assert.equal(bad.status, 500);
  assert.match(badText, /^\[-\]etcd failed: reason withheld$/m);
  assert.match(badText, /readyz check failed\n$/);
  assert.equal((await fetch(`${sim.url}/livez`)).status, 200, 'livez unaffected');
  const v = (await (await fetch(`${sim.url}/version`)).json()) as { major: string };
  assert.equal(v.major, '1');
});

void test('the simulator runs standalone, prints its URL and takes faults over /_sim/', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'support/apisim/main.ts'), '--listen', '127.0.0.1:0', '--nodes', 'a,b'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const nodes = (await (await fetch(`${url}/api/v1/nodes`, { headers: { authorization: 'Bearer vigil-sim-token' } })).json()) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(
      nodes.items.map((n) => n.metadata.name),
      ['a', 'b'],
    );
    const set = await fetch(`${url}/_sim/nodes/a`, { method: 'POST', body: JSON.stringify({ unschedulable: true }) });
    assert.equal(set.status, 200);
    const state = (await (await fetch(`${url}/_sim/state`)).json()) as { nodes: { name: string; unschedulable: boolean }[] };
    assert.deepEqual(state.nodes, [
      { name: 'a', unschedulable: true },
      { name: 'b', unschedulable: false },
    ]);
    const agentPod = { metadata: { name: 'vigil-abc', namespace: 'vigil', labels: { app: 'vigil' } }, spec: { nodeName: 'b', containers: [{ name: 'vigil', image: 'vigil' }] }, status: { podIP: '127.0.0.2' } };
    assert.equal((await fetch(`${url}/_sim/objects/pods`, { method: 'POST', body: JSON.stringify(agentPod) })).status, 201);
    const running = await until(async () => {
      const p = (await (await fetch(`${url}/api/v1/namespaces/vigil/pods/vigil-abc`, { headers: { authorization: 'Bearer vigil-sim-token' } })).json()) as { status: { phase: string; podIP: string } };
      return p.status.phase === 'Running' ? p : undefined;
    }, 'the agent pod to run');
    assert.equal(running.status.podIP, '127.0.0.2', 'the given pod IP is kept');
    const wrong = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ latency: 5 }) });
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /unknown fault latency/);
    const badValue = await fetch(`${url}/_sim/behaviour`, { method: 'POST', body: JSON.stringify({ node: 'a', startDelayMs: 'slow' }) });
    assert.equal(badValue.status, 400);
    assert.equal(((await badValue.json()) as { error: string }).error, 'startDelayMs: expected a number of milliseconds >= 0, got "slow"');
  } finally {
    child.kill('SIGTERM');
  }
});

void test('the standalone simulator rejects a bad --listen with a usage error', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'support/apisim/main.ts'), '--listen', 'nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /--listen: expected HOST:PORT, got "nowhere"/);
});
