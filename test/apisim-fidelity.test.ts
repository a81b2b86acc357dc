// Where the simulator must be as strict as kube-apiserver and the kubelet: each test pins one
// behaviour listed in test/support/apisim/README.md's fidelity table, through the real client-node.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { ApiSim } from './support/apisim/index.ts';
import { startSimWithClient, type SimWithClient } from './support/apisim/client.ts';
import { until } from './support/k8s-probe-env.ts';

let sim: ApiSim;
let core: CoreV1Api;
let kc: KubeConfig;
let env: SimWithClient;

before(async () => {
  env = await startSimWithClient(['n1', 'n2']);
  ({ sim, core, kc } = env);
});
after(() => env.stop());
beforeEach(() => {
  sim.reset();
  for (const p of sim.store.list('pods')) sim.store.remove('pods', p.metadata.namespace, p.metadata.name);
});

const pod = (name: string, node: string, spec: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], nodeSelector: { 'kubernetes.io/hostname': node }, ...spec },
});

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> & { message: string; reason: string } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; body: string };
    return { code: e.code, body: JSON.parse(e.body) as Record<string, unknown> & { message: string; reason: string } };
  }
  throw new Error('expected the call to fail');
}

interface Seen {
  type: string;
  obj: { metadata?: { name?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number }; status?: { phase?: string }; code?: number; reason?: string; message?: string };
}
async function watchPods(query: Record<string, string | number>) {
  const events: Seen[] = [];
  let done: Error | null | undefined;
  const ctl = await new Watch(kc).watch(
    '/api/v1/namespaces/vigil/pods',
    query,
    (type, obj: Seen['obj']) => events.push({ type, obj }),
    (err: Error | null) => (done = err),
  );
  return { events, ctl, done: () => done };
}

const running = (name: string) => until(() => sim.store.get('pods', 'vigil', name)?.status?.phase === 'Running', `${name} running`);

void test('delete options come from the body when there is one: a query gracePeriodSeconds next to a body is ignored (handlers/delete.go)', async () => {
  sim.behaviours.set({ terminationDelayMs: 60_000 });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q1', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q1');
  const uid = sim.store.get('pods', 'vigil', 'q1')!.metadata.uid;
  // The query asks for 30 s, but a body is sent: its (absent) grace period wins, so the pod's own 0 applies.
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q1', gracePeriodSeconds: 30, body: { preconditions: { uid } } });
  assert.equal(sim.store.get('pods', 'vigil', 'q1'), undefined, "gone at once: the pod's terminationGracePeriodSeconds 0 applied");
});

void test('even at grace 0 the registry writes the deletionTimestamp first (MODIFIED), then removes the pod (store.go)', async () => {
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q0', 'n1') });
  await running('q0');
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=q0' });
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q0', body: { gracePeriodSeconds: 0 } });
  await until(() => w.events.some((e) => e.type === 'DELETED'), 'the DELETED event');
  w.ctl.abort();
  // store.go updateForGracefulDeletionAndFinalizers, then the removal.
  assert.deepEqual(
    w.events.map((e) => `${e.type} ${e.obj.metadata?.deletionGracePeriodSeconds ?? '-'}`),
    ['MODIFIED 0', 'DELETED 0'],
  );
  assert.ok(w.events[0]!.obj.metadata!.deletionTimestamp);
});

void test('a deletion already pending is only shortened: a delete that gives no grace period, or a longer one, leaves it as it is (rest/delete.go BeforeDelete)', async () => {
  sim.behaviours.set({ stuckTerminating: true }, 'n2');
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('pd1', 'n2', { terminationGracePeriodSeconds: 0 }) });
  await running('pd1');
  const headers = { authorization: `Bearer ${sim.token}` };
  const del = (body?: object) => fetch(`${sim.url}/api/v1/namespaces/vigil/pods/pd1`, { method: 'DELETE', headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  assert.equal((await del({ gracePeriodSeconds: 30 })).status, 200);
  const pending = sim.store.get('pods', 'vigil', 'pd1')!;
  assert.equal(pending.metadata.deletionGracePeriodSeconds, 30);
  assert.equal((await del()).status, 200);
  assert.equal(sim.store.get('pods', 'vigil', 'pd1')?.metadata.resourceVersion, pending.metadata.resourceVersion, "no grace period given: the pending deletion stands (the pod's own 0 s is not applied)");
  await del({ gracePeriodSeconds: 60 });
  assert.equal(sim.store.get('pods', 'vigil', 'pd1')?.metadata.deletionGracePeriodSeconds, 30, 'a longer one changes nothing');
  await del({ gracePeriodSeconds: 5 });
  assert.equal(sim.store.get('pods', 'vigil', 'pd1')?.metadata.deletionGracePeriodSeconds, 5, 'a shorter one shortens it');
  await del({ gracePeriodSeconds: 0 });
  assert.equal(sim.store.get('pods', 'vigil', 'pd1'), undefined, 'and 0 removes it');
});

void test("the body's grace period is used; without a body the query's is; a stale UID precondition is 409 Conflict", async () => {
  sim.behaviours.set({ terminationDelayMs: 60_000 });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q2', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q2');
  const marked = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q2', body: { gracePeriodSeconds: 5, preconditions: { uid: sim.store.get('pods', 'vigil', 'q2')!.metadata.uid } } });
  assert.equal(marked.metadata!.deletionGracePeriodSeconds, 5, "the body's grace period is used");
  assert.ok(sim.store.get('pods', 'vigil', 'q2')!.metadata.deletionTimestamp, 'Terminating, waiting for the kubelet');

  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q3', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q3');
  const queryOnly = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q3', gracePeriodSeconds: 7 });
  assert.equal(queryOnly.metadata!.deletionGracePeriodSeconds, 7, 'without a body, the query is read');
  const stale = await apiError(core.deleteNamespacedPod({ namespace: 'vigil', name: 'q3', body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }));
  assert.equal(stale.code, 409);
  assert.match(
    stale.body.message,
    /^Operation cannot be fulfilled on Pod "q3": the UID in the precondition \(0{8}-0{4}-0{4}-0{4}-0{12}\) does not match the UID in record \([0-9a-f-]{36}\)\. The object might have been deleted and then recreated$/,
    'rest/delete.go BeforeDelete, the resource named by its kind',
  );
});

void test('a watch that sets no timeoutSeconds is ended by the server after a random time from minRequestTimeout to twice that; one that sets it, after its own, with a last bookmark ahead of the deadline when asked (handlers/get.go ListResource, cache_watcher.go)', async () => {
  const own = await ApiSim.start({ minRequestTimeoutMs: 400, bookmarkIntervalMs: 60_000, bookmarkBeforeDeadlineMs: 500 });
  try {
    const headers = { authorization: `Bearer ${own.token}` };
    const lasted = async (query: string) => {
      const t0 = performance.now();
      const res = await fetch(`${own.url}/api/v1/namespaces/vigil/pods?watch=true${query}`, { headers });
      assert.equal(res.status, 200);
      const text = await res.text(); // the stream ends when the server ends it
      return {
        ms: performance.now() - t0,
        types: text
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { type: string }).type),
      };
    };
    const [plain, asked, bookmarked] = await Promise.all([lasted(''), lasted('&timeoutSeconds=1'), lasted('&timeoutSeconds=1&allowWatchBookmarks=true')]);
    assert.ok(plain.ms >= 400, `ended by the server no sooner than minRequestTimeout: ${plain.ms.toFixed(0)} ms`);
    assert.ok(asked.ms >= 1000, `ended no sooner than the client's timeoutSeconds: ${asked.ms.toFixed(0)} ms`);
    assert.deepEqual(asked.types, [], 'no bookmark unasked');
    assert.deepEqual(bookmarked.types, ['BOOKMARK'], 'one bookmark ahead of the deadline, though the periodic one is a minute away (cache_watcher.go nextBookmarkTime)');
  } finally {
    await own.stop();
  }
});

void test('a restart closes open watches; the new watch cache answers 429 "storage is (re)initializing" with Retry-After to watches and to lists it cannot delegate, then 410 for versions before it (cacher.go, delegator.go)', async () => {
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const before = await watchPods({ resourceVersion: list.metadata!.resourceVersion! });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('r1', 'n1') });
  await until(() => before.events.length > 0, 'an event before the restart');
  const closed = sim.restart({ initializingMs: 600_000 });
  assert.ok(closed >= 1);
  await until(() => before.done() !== undefined, 'the open watch to end');
  const headers = { authorization: `Bearer ${sim.token}` };
  const w = await fetch(`${sim.url}/api/v1/namespaces/vigil/pods?watch=true&resourceVersion=${list.metadata!.resourceVersion}`, { headers });
  assert.equal(w.status, 429);
  assert.equal(w.headers.get('retry-after'), '1');
  assert.deepEqual(await w.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'storage is (re)initializing', reason: 'TooManyRequests', details: { retryAfterSeconds: 1 }, code: 429 });
  const list429 = async (query: string) => (await fetch(`${sim.url}/api/v1/namespaces/vigil/pods?${query}`, { headers })).status;
  assert.equal(await list429('resourceVersion=0'), 429, 'a list served from the watch cache waits for it too');
  assert.equal(await list429(''), 429, 'a consistent list is served from the cache (ConsistentListFromCache): it waits');
  assert.equal(await list429('labelSelector=app%3Dvigil'), 429, 'so does a list with a label selector');
  assert.equal(await list429('labelSelector=app%3Dvigil&limit=500'), 429, 'even with a limit');
  assert.equal(await list429('fieldSelector=spec.nodeName%3Dn1&limit=500'), 429, 'or a field selector');
  const paged = await core.listNamespacedPod({ namespace: 'vigil', limit: 500 });
  assert.deepEqual(
    paged.items.map((p) => p.metadata!.name),
    ['r1'],
    'a list with a limit and no selector goes to etcd and is served',
  );
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('r0', 'n1') }); // the cluster carries on while the cache starts
  sim.finishInitializing();
  assert.equal((await fetch(`${sim.url}/api/v1/namespaces/vigil/pods?resourceVersion=0`, { headers })).status, 200, 'the cache is ready');
  const old = await watchPods({ resourceVersion: list.metadata!.resourceVersion! });
  await until(() => old.done() !== undefined, 'the stale watch to end');
  assert.deepEqual(
    old.events.map((e) => [e.type, e.obj.code]),
    [['ERROR', 410]],
  );
  const fresh = await watchPods({ resourceVersion: (await core.listNamespacedPod({ namespace: 'vigil' })).metadata!.resourceVersion! });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('r2', 'n1') });
  await until(() => fresh.events.some((e) => e.obj.metadata?.name === 'r2'), 'events on a watch from the new list');
  fresh.ctl.abort();
});

void test("watch history is the watch cache's, per resource (watch_cache_history.go): a quiet resource keeps its events however old, a busy one at least the last eventFreshDuration; an event leaves only for a newer one", async () => {
  const { Store } = await import('./support/apisim/store.ts');
  const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' } });
  const store = new Store({ historyMs: 100, historyEvents: 4 });
  store.create('nodes', node('a'));
  const rv = store.resourceVersion - 1;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(store.eventsSince('nodes', rv)?.length, 1, 'an old event on a quiet resource still replays');
  // Another resource's churn leaves it alone: each resource has a cache of its own.
  for (let i = 0; i < 20; i++) store.create('pods', pod(`p${i}`));
  assert.equal(store.eventsSince('nodes', rv)?.length, 1);
  // Events arriving fast grow the buffer past its lower bound instead of evicting: all fresh.
  assert.equal(store.eventsSince('pods', rv + 1)?.length, 20, 'twenty fresh pod events, none evicted');
  // Once the oldest are stale, a full buffer evicts them: a watch from before gets 410.
  for (const n of ['b', 'c', 'd']) store.create('nodes', node(n));
  assert.equal(store.eventsSince('nodes', rv)?.length, 4, 'the buffer (4) holds all four');
  store.create('nodes', node('e'));
  assert.equal(store.eventsSince('nodes', rv), undefined, 'the oldest left for the newest: too old now');
  assert.equal(store.eventsSince('nodes', store.oldestResourceVersion('nodes'))?.length, 4);
  assert.deepEqual(store.eventsSince('nodes', store.resourceVersion), [], 'the current version is still fine');
});

void test('429 in an error burst is the flow-control answer: plain text with Retry-After; after authentication, and never on the health endpoints (filters/priority-and-fairness.go, flowcontrol/bootstrap/default.go "probes")', async () => {
  sim.faults.set({ errorBurst: { count: 1, code: 429 } });
  assert.equal((await fetch(`${sim.url}/api/v1/nodes`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'authentication before flow control');
  assert.equal((await fetch(`${sim.url}/livez`, { headers: { authorization: `Bearer ${sim.token}` } })).status, 200, 'the health endpoints are exempt');
  assert.equal((await fetch(`${sim.url}/readyz?verbose`)).status, 200);
  const r = await fetch(`${sim.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${sim.token}` } });
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '1');
  assert.equal(await r.text(), 'Too many requests, please try again later.\n');
  assert.equal((await fetch(`${sim.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${sim.token}` } })).status, 200);
});

void test('health endpoints: a wrong token is 401 before any check (filters/authentication.go); anonymous may read them', async () => {
  assert.equal((await fetch(`${sim.url}/readyz`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(`${sim.url}/livez?verbose`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(`${sim.url}/readyz`)).status, 200, 'anonymous may read health (system:public-info-viewer)');
});

void test("health endpoints: exclusions are listed in place, unknown ones warned, a failing check's reason withheld (healthz.go handleRootHealth)", async () => {
  sim.health.failing.readyz = ['etcd'];
  sim.health.reasons.etcd = 'etcd client connection not yet established';
  const ex = await fetch(`${sim.url}/readyz?verbose&exclude=etcd&exclude=nosuch`, { headers: { authorization: `Bearer ${sim.token}` } });
  const text = await ex.text();
  assert.equal(ex.status, 200);
  const lines = text.split('\n');
  assert.equal(lines[0], '[+]ping ok');
  assert.equal(lines[2], '[+]etcd excluded: ok', "in the check's own place");
  assert.equal(lines.at(-3), 'warn: some health checks cannot be excluded: no matches for "nosuch"');
  assert.equal(lines.at(-2), 'readyz check passed');
  const failed = await fetch(`${sim.url}/readyz`, { headers: { authorization: `Bearer ${sim.token}` } });
  assert.equal(failed.status, 500);
  assert.match(await failed.text(), /\[-\]etcd failed: reason withheld\n[^]*readyz check failed\n$/);
});

void test('health endpoints: a single failing check asked on its own path gives its error (healthz.go adaptCheckToHandler)', async () => {
  sim.health.failing.readyz = ['etcd'];
  sim.health.reasons.etcd = 'etcd client connection not yet established';
  const single = await fetch(`${sim.url}/readyz/etcd`, { headers: { authorization: `Bearer ${sim.token}` } });
  assert.equal(single.status, 500);
  assert.equal(await single.text(), 'internal server error: etcd client connection not yet established\n');
});

void test('admission: NamespaceLifecycle refuses a pod in a missing namespace with 404', async () => {
  const missing = await apiError(core.createNamespacedPod({ namespace: 'nowhere', body: pod('a1', 'n1') }));
  assert.deepEqual([missing.code, missing.body.reason, missing.body.message], [404, 'NotFound', 'namespaces "nowhere" not found']);
});

void test('admission: Priority refuses an unknown PriorityClass with 403, without the RBAC phrase', async () => {
  const noPc = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: pod('a1', 'n1', { priorityClassName: 'gold' }) }));
  assert.deepEqual([noPc.code, noPc.body.reason, noPc.body.message], [403, 'Forbidden', 'pods "a1" is forbidden: no PriorityClass with name gold was found']);
});

void test('admission: PodSecurity "restricted" refuses a pod that does not meet it, in the plugin\'s words, and admits one that does', async () => {
  sim.admission.namespaces.vigil = { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } };
  const psa = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: pod('a1', 'n1') }));
  assert.equal(psa.code, 403);
  assert.equal(
    psa.body.message,
    'pods "a1" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
  const hardened = pod('a2', 'n1', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
  hardened.spec!.containers[0]!.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  await core.createNamespacedPod({ namespace: 'vigil', body: hardened });
});

void test('admission: ResourceQuota on limits.cpu refuses a pod without CPU limits', async () => {
  sim.admission.quotas = [{ name: 'compute', namespace: 'vigil', hard: { 'limits.cpu': '1' } }];
  const quota = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: pod('a3', 'n1') }));
  assert.deepEqual([quota.code, quota.body.message], [403, 'pods "a3" is forbidden: failed quota: compute: must specify limits.cpu for: c']);
});

void test('pod validation refuses what ValidateTolerations refuses, with 422 field causes', async () => {
  const bad = await apiError(
    core.createNamespacedPod({
      namespace: 'vigil',
      body: pod('v1', 'n1', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule', tolerationSeconds: 60 }, { key: 'k', operator: 'Exists', value: 'v' }, { operator: 'Equal' }] }),
    }),
  );
  assert.equal(bad.code, 422);
  assert.equal(bad.body.reason, 'Invalid');
  const causes = (bad.body.details as { causes: { field: string; message: string }[] }).causes.map((c) => `${c.field}: ${c.message}`);
  assert.deepEqual(causes, [
    'spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set',
    'spec.tolerations[1].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: value must be empty when `operator` is \'Exists\'',
    'spec.tolerations[2].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
  ]);
});

void test('pod validation refuses a node-affinity matchFields term with more than one value, with 422', async () => {
  const affinity = await apiError(
    core.createNamespacedPod({
      namespace: 'vigil',
      body: {
        metadata: { name: 'v2' },
        spec: {
          containers: [{ name: 'c', image: 'i' }],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }] }] } } },
        },
      },
    }),
  );
  assert.equal(affinity.code, 422);
  assert.match(affinity.body.message, /matchFields\[0\]\.values: Required value: must be only one value when `operator` is 'In' or 'NotIn' for node field selector/);
});

void test('pod validation refuses a request above its limit, with 422', async () => {
  const resources = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: { metadata: { name: 'v3' }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] } } }));
  assert.equal(resources.code, 422);
  assert.match(resources.body.message, /spec\.containers\[0\]\.resources\.requests: Invalid value: "2": must be less than or equal to cpu limit of 1/);
});

void test("a graceful deletion ends as the kubelet ends it: terminal status (MODIFIED), the kubelet's grace-0 delete (MODIFIED), then DELETED", async () => {
  sim.behaviours.set({ terminationDelayMs: 100 });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('d1', 'n1') });
  await running('d1');
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=d1' });
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'd1', body: { gracePeriodSeconds: 30 } });
  await until(() => w.events.some((e) => e.type === 'DELETED'), 'the DELETED event');
  w.ctl.abort();
  assert.deepEqual(
    w.events.map((e) => `${e.type} ${e.obj.status?.phase} grace=${e.obj.metadata?.deletionGracePeriodSeconds}`),
    ['MODIFIED Running grace=30', 'MODIFIED Succeeded grace=30', 'MODIFIED Succeeded grace=0', 'DELETED Succeeded grace=0'],
  );
  const cs = (w.events[1]!.obj as { status: { containerStatuses: { state: { terminated?: { exitCode: number; reason: string } } }[] } }).status.containerStatuses;
  assert.deepEqual(
    cs.map((c) => [c.state.terminated?.exitCode, c.state.terminated?.reason]),
    [[0, 'Completed']],
  );
});

void test("by default a kubelet takes a real one's ~2 s to confirm a graceful deletion: the pod stays Terminating until then (housekeeping, canBeDeleted)", async () => {
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('d2', 'n1') });
  await running('d2');
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=d2' });
  const t0 = Date.now();
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'd2', body: { gracePeriodSeconds: 1 } });
  const terminating = sim.store.get('pods', 'vigil', 'd2');
  assert.ok(terminating?.metadata.deletionTimestamp, 'accepted, not removed: the kubelet has yet to stop the containers');
  assert.equal(terminating.status?.phase, 'Running');
  await until(() => w.events.some((e) => e.type === 'DELETED'), 'the DELETED event');
  const took = Date.now() - t0;
  w.ctl.abort();
  assert.ok(took >= 2000, `gone ${took} ms after the delete: a real kubelet needs its PLEG relist and housekeeping first`);
  assert.deepEqual(
    w.events.map((e) => `${e.type} ${e.obj.status?.phase}`),
    ['MODIFIED Running', 'MODIFIED Succeeded', 'MODIFIED Succeeded', 'DELETED Succeeded'],
  );
});

void test('activeDeadlineSeconds counts from status.startTime, before the containers run (active_deadline.go)', async () => {
  sim.behaviours.set({ startDelayMs: 60_000 }, 'n2');
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('dl1', 'n2', { activeDeadlineSeconds: 1 }) });
  const failed = await until(
    () => {
      const p = sim.store.get('pods', 'vigil', 'dl1');
      return p?.status?.phase === 'Failed' ? p : undefined;
    },
    'the deadline to fail a pod still in ContainerCreating',
    10_000,
  );
  assert.equal(failed.status!.reason, 'DeadlineExceeded');
  assert.equal(failed.status!.message, 'Pod was active on the node longer than the specified deadline');
  const state = (failed.status!.containerStatuses as { state: { terminated?: { reason: string; exitCode: number } } }[])[0]!.state;
  assert.deepEqual([state.terminated?.reason, state.terminated?.exitCode], ['ContainerStatusUnknown', 137]);
});

void test('past activeDeadlineSeconds the kubelet kills running containers: none left running under phase Failed', async () => {
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('dl2', 'n1', { activeDeadlineSeconds: 1 }) });
  await running('dl2');
  await until(() => sim.store.get('pods', 'vigil', 'dl2')?.status?.phase === 'Failed', 'the deadline to kill the running pod', 10_000);
  const killed = (sim.store.get('pods', 'vigil', 'dl2')!.status!.containerStatuses as { state: { running?: unknown; terminated?: { exitCode: number } } }[])[0]!.state;
  assert.equal(killed.running, undefined, 'no container left running under phase Failed');
  assert.equal(killed.terminated?.exitCode, 137);
});

const pullStates = (events: Seen[]) =>
  events
    .map((e) => (e.obj as { status?: { containerStatuses?: { state: { waiting?: { reason: string }; running?: unknown } }[] } }).status?.containerStatuses?.[0]?.state)
    .map((s) => s?.waiting?.reason ?? (s?.running ? 'Running' : '-'))
    .filter((r, i, all) => r !== all[i - 1]);

void test('a failing image pull alternates ErrImagePull and ImagePullBackOff: the kubelet pulls again after each back-off (image_manager.go)', async () => {
  sim.behaviours.set({ imagePullError: 'failed to pull image: 404 Not Found', imagePullBackOffMs: 300 }, 'n1');
  const list = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'metadata.name=ip0' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=ip0' });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('ip0', 'n1') });
  await until(() => pullStates(w.events).filter((r) => r === 'ImagePullBackOff').length >= 2, 'two back-offs');
  w.ctl.abort();
  assert.deepEqual(pullStates(w.events).slice(0, 6), ['-', 'ContainerCreating', 'ErrImagePull', 'ImagePullBackOff', 'ErrImagePull', 'ImagePullBackOff']);
});

void test('an image pull may succeed after transient errors: the pod then runs', async () => {
  sim.behaviours.set({ imagePullError: 'failed to pull image: 503 Service Unavailable', imagePullFailures: 2, imagePullBackOffMs: 300 }, 'n1');
  const list = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'metadata.name=ip1' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=ip1' });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('ip1', 'n1') });
  await running('ip1');
  await until(() => w.events.some((e) => e.obj.status?.phase === 'Running'), 'the Running event');
  w.ctl.abort();
  assert.deepEqual(pullStates(w.events), ['-', 'ContainerCreating', 'ErrImagePull', 'ImagePullBackOff', 'ErrImagePull', 'ImagePullBackOff', 'Running']);
});

void test("a container the runtime failed to create is created again at the kubelet's next sync, restartPolicy Never or not (helpers.go ShouldContainerBeRestarted); the same error is written once", async () => {
  sim.behaviours.set({ createContainerError: 'failed to create containerd task: context deadline exceeded', createContainerFailures: 2, createContainerRetryMs: 300 }, 'n1');
  const list = await core.listNamespacedPod({ namespace: 'vigil', fieldSelector: 'metadata.name=cc1' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=cc1' });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('cc1', 'n1', { restartPolicy: 'Never' }) });
  await running('cc1');
  await until(() => w.events.some((e) => e.obj.status?.phase === 'Running'), 'the Running event');
  w.ctl.abort();
  assert.deepEqual(pullStates(w.events), ['-', 'ContainerCreating', 'CreateContainerError', 'Running']);
  const errors = w.events.filter((e) => (e.obj as { status?: { containerStatuses?: { state: { waiting?: { reason: string } } }[] } }).status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerError');
  assert.equal(errors.length, 1, 'two failed creates with the same error: one status write (status_manager.go writes only a changed status)');
});

void test('a runtime fixed while the container waits in CreateContainerError: the next try creates it', async () => {
  sim.behaviours.set({ createContainerError: 'failed to create shim task: OCI runtime create failed: cgroup not mounted', createContainerRetryMs: 300 }, 'n1');
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('cc2', 'n1', { restartPolicy: 'Never' }) });
  const waiting = () => (sim.store.get('pods', 'vigil', 'cc2')?.status?.containerStatuses as { state: { waiting?: { reason: string } } }[] | undefined)?.[0]?.state.waiting?.reason;
  await until(() => waiting() === 'CreateContainerError', 'the create error');
  sim.behaviours.set({ createContainerError: undefined }, 'n1');
  await running('cc2');
});

void test('a just-started API server\'s admission waits for its caches, then refuses with 403 "not yet ready to handle request"; once they have synced it admits (admission/handler.go WaitForReady)', async () => {
  sim.restart({ initializingMs: 0, admissionNotReadyMs: 1500, admissionWaitMs: 200 });
  const refused = await apiError(core.createNamespacedPod({ namespace: 'vigil', body: pod('nr1', 'n1') }));
  assert.equal(refused.code, 403);
  assert.equal(refused.body.reason, 'Forbidden');
  assert.equal(refused.body.message, 'pods "nr1" is forbidden: not yet ready to handle request');
  assert.equal(sim.store.get('pods', 'vigil', 'nr1'), undefined, 'nothing stored');
  // A create that arrives within its wait of the caches syncing waits and is admitted.
  sim.restart({ initializingMs: 0, admissionNotReadyMs: 300, admissionWaitMs: 10_000 });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('nr2', 'n1') });
  assert.ok(sim.store.get('pods', 'vigil', 'nr2'));
});

void test('the kubelet may reject a pod at its own admission: phase Failed, reason OutOfcpu, "Pod was rejected: ..." (kubelet.go rejectPod)', async () => {
  sim.behaviours.set({ kubeletReject: 'OutOfcpu' }, 'n2');
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('rej', 'n2') });
  const rej = await until(() => {
    const p = sim.store.get('pods', 'vigil', 'rej');
    return p?.status?.phase === 'Failed' ? p : undefined;
  }, 'the kubelet to reject the pod');
  assert.equal(rej.status!.reason, 'OutOfcpu');
  assert.match(rej.status!.message as string, /^Pod was rejected: Node didn't have enough resource: cpu, requested: \d+, used: \d+, capacity: \d+$/);
});
