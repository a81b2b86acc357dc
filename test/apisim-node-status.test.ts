// The simulator's nodes/status patches and Events, as kube-apiserver serves them: each test pins a
// row of test/support/apisim/README.md's fidelity table, through the real client-node.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { PatchStrategy, setHeaderOptions, Watch, type CoreV1Api, type CoreV1Event, type KubeConfig, type V1NodeCondition } from '@kubernetes/client-node';
import type { ApiSim } from './support/apisim/index.ts';
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
beforeEach(() => sim.reset());

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: { message: string; reason: string; details?: { causes?: { field: string; reason: string }[] } } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; body: string };
    return { code: e.code, body: JSON.parse(e.body) as { message: string; reason: string } };
  }
  throw new Error('expected the call to fail');
}

const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const condition = (type: string, status: 'True' | 'False', reason: string): V1NodeCondition => ({
  type,
  status,
  reason,
  message: `${type} is ${status}`,
  lastHeartbeatTime: new Date('2026-01-01T00:00:00Z'),
  lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
});
const types = (node: string) => ((sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as { type: string; status: string }[]).map((c) => `${c.type}=${c.status}`);

void test("a strategic merge patch on nodes/status merges conditions by type: the kubelet's Ready stays, one condition is replaced in place (strategicpatch, NodeStatus patchMergeKey type)", async () => {
  const before = sim.store.get('nodes', undefined, 'n1')!;
  const list = await core.listNode();
  const events: string[] = [];
  const ctl = await new Watch(kc).watch(
    '/api/v1/nodes',
    { resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=n1' },
    (type: string, obj: { metadata: { resourceVersion: string } }) => events.push(`${type} ${obj.metadata.resourceVersion}`),
    () => {},
  );

  const n = await core.patchNodeStatus({ name: 'n1', body: { status: { conditions: [condition('VigilPodStartup', 'True', 'ImagePullFailed')] } } }, strategic);
  assert.deepEqual(types('n1'), ['Ready=True', 'VigilPodStartup=True']);
  assert.ok(Number(n.metadata!.resourceVersion) > Number(before.metadata.resourceVersion), 'the resourceVersion moved');
  await until(() => events.length === 1, 'a MODIFIED event');
  assert.deepEqual(events, [`MODIFIED ${n.metadata!.resourceVersion}`]);

  await core.patchNodeStatus({ name: 'n1', body: { status: { conditions: [condition('VigilPodStartup', 'False', 'PodStartsOnNode'), condition('VigilClock', 'False', 'ClockInSync')] } } }, strategic);
  assert.deepEqual(types('n1'), ['Ready=True', 'VigilPodStartup=False', 'VigilClock=False'], 'replaced by type, the new one appended');
  const stored = (sim.store.get('nodes', undefined, 'n1')!.status!.conditions as { type: string; reason: string }[]).find((c) => c.type === 'VigilPodStartup')!;
  assert.equal(stored.reason, 'PodStartsOnNode');
  // `$patch: delete` removes one element by its key.
  await core.patchNodeStatus({ name: 'n1', body: { status: { conditions: [{ type: 'VigilClock', $patch: 'delete' }] } } }, strategic);
  assert.deepEqual(types('n1'), ['Ready=True', 'VigilPodStartup=False']);
  ctl.abort();
});

void test('a condition time must decode as metav1.Time: an empty or malformed one makes the patch 422 Invalid on "patch" and changes nothing; null is the zero time (handlers/patch.go, metav1.Time UnmarshalJSON)', async () => {
  const rv = sim.store.get('nodes', undefined, 'n2')!.metadata.resourceVersion;
  const empty = { ...condition('VigilPodStartup', 'True', 'ImagePullFailing'), lastTransitionTime: '' as unknown as Date };
  const refused = await apiError(core.patchNodeStatus({ name: 'n2', body: { status: { conditions: [empty] } } }, strategic));
  assert.equal(refused.code, 422);
  assert.equal(refused.body.reason, 'Invalid');
  assert.match(
    refused.body.message,
    /^ "" is invalid: patch: Invalid value: "map\[status:map\[conditions:\[map\[lastHeartbeatTime:2026-01-01T00:00:00\.000Z lastTransitionTime: message:VigilPodStartup is True reason:ImagePullFailing status:True type:VigilPodStartup\]\]\]\]": parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"$/,
  );
  assert.deepEqual(
    refused.body.details?.causes?.map((c) => `${c.reason} ${c.field}`),
    ['FieldValueInvalid patch'],
  );
  assert.equal(sim.store.get('nodes', undefined, 'n2')!.metadata.resourceVersion, rv, 'nothing stored');
  const garbled = await apiError(core.patchNodeStatus({ name: 'n2', body: { status: { conditions: [{ ...empty, lastTransitionTime: 'yesterday' as unknown as Date }] } } }, strategic));
  assert.equal(garbled.code, 422);
  await core.patchNodeStatus({ name: 'n2', body: { status: { conditions: [{ ...empty, lastTransitionTime: null as unknown as Date }] } } }, strategic);
  assert.deepEqual(types('n2'), ['Ready=True', 'VigilPodStartup=True'], 'null decodes as the zero time');
});

void test("a JSON merge patch on nodes/status replaces the whole conditions list, so it would drop the kubelet's Ready (RFC 7386)", async () => {
  await core.patchNodeStatus({ name: 'n2', body: { status: { conditions: [condition('VigilClock', 'True', 'ClockOffset')] } } }, merge);
  assert.deepEqual(types('n2'), ['VigilClock=True']);
  sim.store.update('nodes', undefined, 'n2', (n) => {
    n.status = { ...n.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] };
  });
});

void test('nodes/status keeps the spec, the node keeps the status (registry/core/node/strategy.go)', async () => {
  await core.patchNodeStatus({ name: 'n1', body: { spec: { unschedulable: true }, status: { conditions: [condition('VigilOverlayNetwork', 'False', 'OverlayReachesPeers')] } } }, strategic);
  const n = sim.store.get('nodes', undefined, 'n1')!;
  assert.equal(n.spec?.unschedulable, undefined, 'a spec field sent to nodes/status is ignored');
  assert.ok(types('n1').includes('VigilOverlayNetwork=False'));
  await core.patchNode({ name: 'n1', body: { spec: { unschedulable: true }, status: { conditions: [] } } }, merge);
  const m = sim.store.get('nodes', undefined, 'n1')!;
  assert.equal(m.spec?.unschedulable, true, 'the spec is written through the node');
  assert.ok(types('n1').includes('Ready=True'), 'a status sent to the node is ignored');
  sim.cordon('n1', false);
});

void test('a patch with no patch Content-Type is 415 UnsupportedMediaType; an unknown node is 404; RBAC names nodes/status (handlers/patch.go, rbac forbiddenMessage)', async () => {
  const plain = await fetch(`${sim.url}/api/v1/nodes/n1/status`, { method: 'PATCH', headers: { Authorization: `Bearer ${sim.token}`, 'Content-Type': 'application/json' }, body: '{"status":{}}' });
  assert.equal(plain.status, 415);
  const s = (await plain.json()) as { reason: string; message: string };
  assert.equal(s.reason, 'UnsupportedMediaType');
  assert.match(s.message, /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml, application\/strategic-merge-patch\+json/);

  const missing = await apiError(core.patchNodeStatus({ name: 'gone', body: { status: { conditions: [condition('VigilClock', 'False', 'ClockInSync')] } } }, strategic));
  assert.equal(missing.code, 404);
  assert.equal(missing.body.message, 'nodes "gone" not found');

  // A role that may patch nodes but not nodes/status: the status write is refused, and the message names the subresource.
  sim.faults.set({ rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] }] });
  const denied = await apiError(core.patchNodeStatus({ name: 'n1', body: { status: { conditions: [condition('VigilClock', 'False', 'ClockInSync')] } } }, strategic));
  assert.equal(denied.code, 403);
  assert.equal(denied.body.message, 'nodes "n1" is forbidden: User "system:serviceaccount:vigil:vigil" cannot patch resource "nodes/status" in API group "" at the cluster scope');
  sim.faults.set({ rbac: [{ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] }] });
  await core.patchNodeStatus({ name: 'n1', body: { status: { conditions: [condition('VigilClock', 'False', 'ClockInSync')] } } }, strategic);
  const notDelete = await fetch(`${sim.url}/api/v1/nodes/n1/status`, { method: 'DELETE', headers: { Authorization: `Bearer ${sim.token}` } });
  assert.equal(notDelete.status, 403, 'the role does not grant delete');
});

const nodeEvent = (over: Partial<CoreV1Event> = {}): CoreV1Event => ({
  metadata: { name: `n1.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 6)}` },
  involvedObject: { kind: 'Node', name: 'n1', uid: 'n1', apiVersion: 'v1' },
  reason: 'PodStartupFailing',
  message: 'the probe pod cannot start on n1',
  type: 'Warning',
  source: { component: 'vigil', host: 'n1' },
  firstTimestamp: new Date(),
  lastTimestamp: new Date(),
  count: 1,
  ...over,
});

void test('a core/v1 Event about a Node goes in "default"; validation answers 422 with the fields, as legacyValidateEvent does (pkg/apis/core/validation/events.go)', async () => {
  const created = await core.createNamespacedEvent({ namespace: 'default', body: nodeEvent() });
  assert.equal(created.metadata.namespace, 'default');
  assert.ok(created.metadata.resourceVersion && created.metadata.uid);
  const listed = await core.listNamespacedEvent({ namespace: 'default' });
  assert.ok(listed.items.some((e) => e.metadata.name === created.metadata.name && e.involvedObject.name === 'n1' && e.source?.component === 'vigil'));

  // A cluster-scoped object's event outside "default" (no eventTime): involvedObject.namespace does not match.
  const elsewhere = await apiError(core.createNamespacedEvent({ namespace: 'vigil', body: nodeEvent() }));
  assert.equal(elsewhere.code, 422);
  assert.equal(elsewhere.body.reason, 'Invalid');
  assert.match(elsewhere.body.message, /^Event "n1\.[0-9a-f]+" is invalid: involvedObject\.namespace: Invalid value: "": does not match event\.namespace$/);

  // With an eventTime, the reporting fields are required.
  const bare = await apiError(core.createNamespacedEvent({ namespace: 'default', body: nodeEvent({ eventTime: new Date() as unknown as CoreV1Event['eventTime'], reason: '' }) }));
  assert.equal(bare.code, 422);
  assert.deepEqual(
    bare.body.details!.causes!.map((c) => c.field),
    ['reportingController', 'reportingInstance', 'action', 'reason'],
  );

  const nameless = await apiError(core.createNamespacedEvent({ namespace: 'default', body: nodeEvent({ metadata: {} }) }));
  assert.equal(nameless.code, 422);
  assert.equal(nameless.body.message, 'Event "" is invalid: metadata.name: Required value: name or generateName is required');

  const otherNs = await apiError(core.createNamespacedEvent({ namespace: 'default', body: nodeEvent({ metadata: { name: 'x.1', namespace: 'vigil' } }) }));
  assert.equal(otherNs.code, 400);
  assert.equal(otherNs.body.message, 'the namespace of the provided object does not match the namespace sent on the request');

  sim.faults.set({ rbac: [{ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] }] });
  const denied = await apiError(core.createNamespacedEvent({ namespace: 'default', body: nodeEvent() }));
  assert.equal(denied.code, 403);
  assert.equal(denied.body.message, 'events is forbidden: User "system:serviceaccount:vigil:vigil" cannot create resource "events" in API group "" in the namespace "default"');
});
