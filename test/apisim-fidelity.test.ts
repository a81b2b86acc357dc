// Where the simulator must be as strict as kube-apiserver and the kubelet: each test pins one
// behaviour listed in test/support/apisim/README.md's fidelity table, through the real client-node.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { until } from './support/k8s-probe-env.ts';

let sim: ApiSim;
let core: CoreV1Api;
let kc: KubeConfig;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-apisim-fidelity-'));
  sim = await ApiSim.start({ nodes: ['n1', 'n2'] });
  kc = new KubeConfig();
  kc.loadFromFile(writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token }));
  core = kc.makeApiClient(CoreV1Api);
});
after(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});
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
  const ctl = await new Watch(kc).watch('/api/v1/namespaces/vigil/pods', query, (type, obj: Seen['obj']) => events.push({ type, obj }), (err: Error | null) => (done = err));
  return { events, ctl, done: () => done };
}

const running = (name: string) => until(() => sim.store.get('pods', 'vigil', name)?.status?.phase === 'Running', `${name} running`);

void test('delete options come from the body when there is one: a query gracePeriodSeconds next to a body is ignored (handlers/delete.go)', async () => {
  sim.behaviours.set({ terminationDelayMs: 60_000 });
  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q1', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q1');
  const uid = sim.store.get('pods', 'vigil', 'q1')!.metadata.uid;
  // The query asks for 30 s, but a body is sent: its (absent) grace period wins, so the pod's own 0 applies.
  const list = await core.listNamespacedPod({ namespace: 'vigil' });
  const w = await watchPods({ resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=q1' });
  await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q1', gracePeriodSeconds: 30, body: { preconditions: { uid } } });
  assert.equal(sim.store.get('pods', 'vigil', 'q1'), undefined, 'gone at once: the pod\'s terminationGracePeriodSeconds 0 applied');
  await until(() => w.events.some((e) => e.type === 'DELETED'), 'the DELETED event');
  w.ctl.abort();
  // Even at grace 0 the registry first writes the deletionTimestamp (store.go updateForGracefulDeletionAndFinalizers).
  assert.deepEqual(w.events.map((e) => `${e.type} ${e.obj.metadata?.deletionGracePeriodSeconds ?? '-'}`), ['MODIFIED 0', 'DELETED 0']);
  assert.ok(w.events[0]!.obj.metadata!.deletionTimestamp);

  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q2', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q2');
  const marked = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q2', body: { gracePeriodSeconds: 5, preconditions: { uid: sim.store.get('pods', 'vigil', 'q2')!.metadata.uid } } });
  assert.equal(marked.metadata!.deletionGracePeriodSeconds, 5, 'the body\'s grace period is used');
  assert.ok(sim.store.get('pods', 'vigil', 'q2')!.metadata.deletionTimestamp, 'Terminating, waiting for the kubelet');

  await core.createNamespacedPod({ namespace: 'vigil', body: pod('q3', 'n1', { terminationGracePeriodSeconds: 0 }) });
  await running('q3');
  const queryOnly = await core.deleteNamespacedPod({ namespace: 'vigil', name: 'q3', gracePeriodSeconds: 7 });
  assert.equal(queryOnly.metadata!.deletionGracePeriodSeconds, 7, 'without a body, the query is read');
  const stale = await apiError(core.deleteNamespacedPod({ namespace: 'vigil', name: 'q3', body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }));
  assert.equal(stale.code, 409);
  assert.match(stale.body.message, /^Operation cannot be fulfilled on pods "q3": Precondition failed: UID in precondition: 0{8}-/);
});
