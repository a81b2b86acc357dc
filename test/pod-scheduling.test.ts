// The pod-scheduling probe against the API simulator, through the real client-node.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { V1PodSpec } from '@kubernetes/client-node';
import { K8sProbeEnv, runProbe, sample, until } from './support/k8s-probe-env.ts';

let env: K8sProbeEnv;
// The simulated kubelets take a real one's ~2 s to confirm a deletion: the deletion timeout is the
// shortest the probe accepts, which a healthy node meets.
const FAST = { schedulingTimeout: '1s', startupTimeout: '2s', deletionTimeout: '5s' };

before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1', 'n2', 'n3', 'n4', 'n5'] });
});
after(async () => env.stop());
beforeEach(() => {
  env.sim.reset();
  for (const p of env.sim.store.list('pods')) env.sim.store.remove('pods', p.metadata.namespace, p.metadata.name);
  for (const n of env.sim.store.list('nodes')) if (n.spec?.unschedulable || n.spec?.taints) env.sim.store.update('nodes', undefined, n.metadata.name, (x) => (x.spec = {}));
});

const probePods = () => env.sim.store.list('pods').filter((p) => p.metadata.labels?.['vigil.io/probe'] === 'pod-scheduling');

void test('a healthy run times each phase from watch events: no phase shorter than the delay the cluster took, each one its own', async () => {
  // Deletion as a real kubelet confirms it (the simulator's default): about 2 s.
  env.sim.behaviours.set({ schedulingDelayMs: 300, startDelayMs: 500 });
  const { probe, metrics } = env.probe('n1', 'pod-scheduling', FAST);
  const r = await runProbe(probe);
  assert.equal(r.verdict, 'ok', r.message);
  const o = r.observations as Record<string, number>;
  // Lower bounds only, with room for the two events of a phase reaching the agent unevenly: a
  // loaded machine delays both alike, so it lengthens a phase rather than shortening it.
  assert.ok(o['scheduling seconds']! >= 0.3 - 0.1, `scheduling ${o['scheduling seconds']} s`);
  assert.ok(o['startup seconds']! >= 0.8 - 0.1, `startup ${o['startup seconds']} s: from creation to running, so it includes scheduling`);
  assert.ok(o['deletion seconds']! >= 2 - 0.1, `deletion ${o['deletion seconds']} s: the kubelet's confirmation, not the API's acceptance`);
  assert.ok(o['startup seconds']! > o['scheduling seconds']!, 'startup counts from creation, past scheduling');
  assert.match(r.message, /^probe pod on n1: scheduled in \d+\.\d\d s, running in \d+\.\d\d s, gone \d+\.\d\d s after deletion$/);
  assert.equal(await sample(metrics, 'vigil_pod_scheduling_duration_seconds_count'), 1);
  assert.equal(await sample(metrics, 'vigil_pod_startup_duration_seconds_count'), 1);
  assert.equal(await sample(metrics, 'vigil_pod_deletion_duration_seconds_count'), 1);
  assert.deepEqual(probePods(), [], 'nothing left behind');
});

void test('API latency slows the calls but not the measured phases, which are timed between watch events', async () => {
  // Each call waits 1 s; the cluster itself schedules in 0.2 s and starts in 0.2 s more. Timed
  // from the calls, scheduling would read 1.2 s or more; timed between watch events it reads the
  // cluster's 0.2 s, far below the call latency.
  env.sim.behaviours.set({ schedulingDelayMs: 200, startDelayMs: 200 });
  env.sim.faults.set({ latencyMs: 1000 });
  const t0 = Date.now();
  const r = await runProbe(env.probe('n2', 'pod-scheduling', { ...FAST, schedulingTimeout: '10s', startupTimeout: '12s', timeout: '30s' }).probe);
  assert.equal(r.verdict, 'ok', r.message);
  assert.ok(Date.now() - t0 >= 5 * 1000, 'five calls, each delayed');
  const o = r.observations as Record<string, number>;
  assert.ok(o['scheduling seconds']! >= 0.2 - 0.1 && o['scheduling seconds']! < 1, `scheduling ${o['scheduling seconds']} s`);
  assert.ok(o['startup seconds']! >= 0.4 - 0.1 && o['startup seconds']! < 1, `startup ${o['startup seconds']} s`);
});

void test('a run costs one node get, one list, one watch, one create and one delete: no polling', async () => {
  env.sim.behaviours.set({ schedulingDelayMs: 100, startDelayMs: 100 });
  const { probe } = env.probe('n2', 'pod-scheduling', FAST);
  env.sim.requests.length = 0;
  const r = await runProbe(probe);
  assert.equal(r.verdict, 'ok', r.message);
  const calls = env.sim.requests.map((q) => `${q.verb} ${q.resource}`).sort();
  assert.deepEqual(calls, ['create pods', 'delete pods', 'get nodes', 'list pods', 'watch pods']);
  const pod = env.sim.requests.find((q) => q.verb === 'create')!;
  assert.equal(pod.namespace, 'vigil');
});

void test('the pod is pinned to its node and labelled for reaping', async () => {
  env.sim.behaviours.set({ startDelayMs: 2000 });
  const { probe } = env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '5s', image: 'mirror.example/pause:3.10', priorityClassName: 'system-node-critical' });
  const run = runProbe(probe);
  const pod = await until(() => probePods()[0], 'the probe pod');
  assert.equal(pod.metadata.name, 'vigil-probe-n3');
  assert.deepEqual(pod.metadata.labels, { 'app.kubernetes.io/managed-by': 'vigil', 'vigil.io/probe': 'pod-scheduling', 'vigil.io/node': 'n3' });
  const spec = pod.spec as unknown as V1PodSpec;
  assert.deepEqual(spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchFields![0]!.values, ['n3']);
  assert.equal(spec.containers[0]!.image, 'mirror.example/pause:3.10');
  assert.equal(spec.priorityClassName, 'system-node-critical');
  assert.equal(spec.terminationGracePeriodSeconds, 0);
  assert.equal(spec.activeDeadlineSeconds, 300);
  await until(() => env.sim.store.get('pods', 'vigil', 'vigil-probe-n3')?.spec?.nodeName === 'n3', 'binding to n3');
  assert.equal((await run).verdict, 'ok');
});

void test("unschedulable: the scheduler's own message, after the scheduling timeout; the pod is removed", async () => {
  env.sim.behaviours.set({ unschedulable: 'node(s) had untolerated taint {dedicated: gpu}' }, 'n1');
  const { probe, metrics } = env.probe('n1', 'pod-scheduling', FAST);
  const r = await runProbe(probe);
  assert.equal(r.reason, 'unschedulable');
  assert.equal(r.verdict, 'critical');
  assert.match(
    r.message,
    /^probe pod not scheduled in 1\.00 s: 0\/5 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: gpu\}, 4 node\(s\) didn't satisfy plugin\(s\) \[NodeAffinity\]\./,
    'pinned by metadata.name, the other nodes never reach the filters',
  );
  assert.equal(await sample(metrics, 'vigil_pod_scheduling_duration_seconds_count'), 0);
  assert.deepEqual(probePods(), []);
});

void test('a taint the configured tolerations do not cover keeps the pod off the node', async () => {
  env.sim.store.update('nodes', undefined, 'n4', (n) => (n.spec = { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  const strict = await runProbe(env.probe('n4', 'pod-scheduling', { ...FAST, tolerations: [] }).probe);
  assert.equal(strict.reason, 'unschedulable');
  assert.match(strict.message, /1 node\(s\) had untolerated taint \{dedicated: gpu\}/);
  const defaults = await runProbe(env.probe('n4', 'pod-scheduling', FAST).probe);
  assert.equal(defaults.verdict, 'ok', 'the default tolerations cover NoSchedule taints');
});

void test("image pull and container creation failures are named with the runtime's message", async () => {
  env.sim.behaviours.set({ imagePullError: 'failed to pull and unpack image "registry.k8s.io/pause:3.10": 403 Forbidden' }, 'n1');
  env.sim.behaviours.set({ createContainerError: 'failed to create containerd task: OCI runtime create failed: cgroup not mounted' }, 'n2');
  const pull = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(pull.reason, 'image-pull');
  assert.match(pull.message, /^on node n1: image registry\.k8s\.io\/pause:3\.10 cannot be pulled: ErrImagePull: failed to pull and unpack image .*403 Forbidden; still failing after 2\.00 s$/);
  const create = await runProbe(env.probe('n2', 'pod-scheduling', FAST).probe);
  assert.equal(create.reason, 'container-create');
  assert.match(create.message, /^on node n2: container cannot be started: CreateContainerError: .*cgroup not mounted; still failing after 2\.00 s$/, 'the kubelet creates it again: only the startup timeout makes it final');
  assert.deepEqual(probePods(), [], 'failed probe pods are deleted');
});

void test('a pod that never starts is a startup timeout naming what the container waits on', async () => {
  env.sim.behaviours.set({ schedulingDelayMs: 50, startDelayMs: 5000 });
  const r = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(r.reason, 'startup-timeout');
  assert.match(r.message, /^probe pod scheduled on n1 in 0\.\d\d s but not running after 2\.00 s: container waiting: ContainerCreating$/);
});

void test('a pod stuck terminating is a deletion timeout blaming the kubelet; the next run reaps it and counts it', async () => {
  env.sim.behaviours.set({ stuckTerminating: true }, 'n5');
  const { probe, metrics } = env.probe('n5', 'pod-scheduling', FAST);
  const r = await runProbe(probe);
  assert.equal(r.reason, 'deletion-timeout');
  assert.match(r.message, /still terminating 5\.00 s after its deletion: the kubelet on n5 has not confirmed it stopped$/);
  assert.equal(probePods().length, 1);
  env.sim.behaviours.set({ stuckTerminating: false }, 'n5');
  const next = await runProbe(probe);
  assert.equal(next.verdict, 'ok', next.message);
  assert.match(next.message, /1 leftover probe pod\(s\) deleted first$/);
  assert.equal(await sample(metrics, 'vigil_pod_probe_reaped_total'), 1);
  assert.deepEqual(probePods(), []);
});

void test('RBAC denials are "forbidden", naming the verb, resource and namespace to grant', async () => {
  env.sim.faults.set({ denials: [{ verb: 'create', resource: 'pods', namespace: 'vigil' }] });
  const r = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(r.reason, 'forbidden');
  assert.equal(
    r.message,
    'create probe pod vigil/vigil-probe-n1: forbidden: system:serviceaccount:vigil:vigil may not create pods in namespace "vigil"; grant verb "create" on resource "pods" (API group "") in namespace "vigil" in vigil\'s RBAC',
  );
  env.sim.faults.set({ denials: [{ verb: 'get', resource: 'nodes' }] });
  const n = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(n.reason, 'forbidden');
  assert.match(n.message, /may not get nodes cluster-wide; grant verb "get" on resource "nodes"/);
});

void test('server errors are api-error with the Status message; a cordoned node is skipped, not failed', async () => {
  env.sim.faults.set({ errorBurst: { count: 1, code: 500 } });
  const r = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(r.reason, 'api-error');
  assert.equal(r.message, 'read node n1: API server answered 500 InternalError: Internal error occurred: etcdserver: request timed out');

  env.sim.cordon('n2');
  env.sim.requests.length = 0;
  const c = await runProbe(env.probe('n2', 'pod-scheduling', FAST).probe);
  assert.equal(c.skipped, true);
  assert.equal(c.message, 'node n2 is cordoned (spec.unschedulable): no probe pod scheduled');
  assert.deepEqual(
    env.sim.requests.map((q) => q.verb),
    ['get'],
    'nothing created on a cordoned node',
  );

  const missing = await runProbe(env.probe('ghost', 'pod-scheduling', FAST).probe);
  assert.equal(missing.reason, 'api-error');
  assert.equal(missing.message, 'node ghost is not known to the API server: check node.name ($NODE_NAME)');
});

void test("a run aborted by the runner's timeout deletes its pod on the way out", async () => {
  env.sim.behaviours.set({ startDelayMs: 10_000 });
  const { probe } = env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '20s' });
  await assert.rejects(runProbe(probe, 700), (err: Error) => err.name === 'TimeoutError');
  await until(() => probePods().length === 0, 'the aborted run to delete its pod', 5000);
});

void test("a run aborted while the API server stalls ends at its timeout, not after its pod's delete; close() waits for that delete", async () => {
  env.sim.behaviours.set({ startDelayMs: 10_000 });
  const { probe, metrics } = env.probe('n4', 'pod-scheduling', { ...FAST, startupTimeout: '20s' });
  const timeout = new AbortController();
  const run = probe.run(timeout.signal);
  const pod = await until(() => probePods()[0], 'the probe pod');
  // From here every call waits 3 s before the simulator serves it, the pod's delete included.
  env.sim.faults.set({ latencyMs: 3000 });
  timeout.abort(new DOMException('pod-scheduling probe timed out', 'TimeoutError'));
  await assert.rejects(run, (err: Error) => err.name === 'TimeoutError');
  assert.deepEqual(
    probePods().map((p) => p.metadata.uid),
    [pod.metadata.uid],
    "the run ended while the API server still held its pod's delete",
  );
  await probe.close!();
  assert.deepEqual(probePods(), [], 'close() returned before the delete was served');
  assert.equal(await sample(metrics, 'vigil_pod_probe_reaped_total'), 0);
});

void test('shutting down right after aborting a run still waits for the delete of its pod', async () => {
  env.sim.behaviours.set({ startDelayMs: 10_000 });
  const { probe } = env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '20s' });
  const timeout = new AbortController();
  const run = probe.run(timeout.signal);
  await until(() => probePods()[0], 'the probe pod');
  env.sim.faults.set({ latencyMs: 1000 });
  // As the runner stops: abort what is in flight, then close at once, before the run has ended.
  timeout.abort(new DOMException('agent shutting down', 'AbortError'));
  await probe.close!();
  assert.deepEqual(probePods(), [], "close() returned before the aborted run's pod was deleted");
  await assert.rejects(run, (err: Error) => err.name === 'AbortError');
});

void test("the run after an aborted one waits for that run's delete instead of reaping its pod as a leftover", async () => {
  env.sim.behaviours.set({ startDelayMs: 10_000 });
  const { probe, metrics } = env.probe('n5', 'pod-scheduling', { ...FAST, startupTimeout: '20s' });
  const timeout = new AbortController();
  const first = probe.run(timeout.signal);
  await until(() => probePods()[0], 'the probe pod');
  env.sim.faults.set({ latencyMs: 3000 });
  env.sim.requests.length = 0;
  timeout.abort(new DOMException('pod-scheduling probe timed out', 'TimeoutError'));
  await assert.rejects(first, (err: Error) => err.name === 'TimeoutError');
  // The next run is due while that delete is still held; the API answers at once again.
  await until(() => env.sim.requests.some((q) => q.method === 'DELETE'), "the aborted run's delete to reach the API server");
  env.sim.faults.set({ latencyMs: 0 });
  env.sim.behaviours.set({ startDelayMs: 100 });
  const r = await runProbe(probe);
  assert.equal(r.verdict, 'ok', r.message);
  assert.doesNotMatch(r.message, /leftover/);
  assert.equal(await sample(metrics, 'vigil_pod_probe_reaped_total'), 0, "the aborted run's own pod counted as a leftover");
  assert.deepEqual(probePods(), []);
});

void test('bad options are rejected at config load with the key path', async () => {
  const { loadConfig } = await import('../src/config/load.ts');
  const { builtinProbes } = await import('../src/probes/index.ts');
  const load = (opts: Record<string, unknown>) => () => loadConfig({ probes: builtinProbes, file: { name: 'vigil.yaml', text: env.configText('n1', { 'pod-scheduling': opts }) } });
  assert.throws(load({ schedulingTimeout: 'soon' }), /vigil\.yaml: probes\.pod-scheduling\.schedulingTimeout: expected a duration such as "30s" or "5m", got "soon"/);
  assert.throws(load({ tolerations: [{ operator: 'Maybe' }] }), /probes\.pod-scheduling\.tolerations\[0\]\.operator: expected one of "Exists", "Equal", got "Maybe"/);
  assert.throws(load({ imag: 'x' }), /probes\.pod-scheduling: unknown key "imag"/);
  // A real kubelet needs seconds to confirm a deletion: a shorter timeout would fail every healthy node.
  assert.throws(load({ deletionTimeout: '2s' }), /probes\.pod-scheduling\.deletionTimeout: must be at least 5s \(a kubelet takes the pod's 1 s grace period and about 2 s more to confirm a deletion\), got 2s/);
  // What the API server's ValidateTolerations refuses is refused at load, not by every probe run.
  assert.throws(load({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule', tolerationSeconds: 60 }] }), /probes\.pod-scheduling\.tolerations\[0\]\.tolerationSeconds: only applies to effect "NoExecute"/);
  assert.throws(load({ tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'gpu' }] }), /probes\.pod-scheduling\.tolerations\[0\]\.value: must be empty when operator is "Exists"/);
  assert.throws(load({ tolerations: [{ operator: 'Equal', value: 'x' }] }), /probes\.pod-scheduling\.tolerations\[0\]\.operator: must be "Exists" when key is empty/);
  assert.throws(load({ tolerations: [{ key: 'bad key!', operator: 'Exists' }] }), /probes\.pod-scheduling\.tolerations\[0\]\.key: must be a label name/);
});

const WATCH_RUN = { schedulingTimeout: '10s', startupTimeout: '20s', deletionTimeout: '10s' };

void test('a pod watch the server closes mid-run is opened again from the last resourceVersion: no false critical', async () => {
  env.sim.behaviours.set({ startDelayMs: 1000 });
  const { probe } = env.probe('n1', 'pod-scheduling', WATCH_RUN);
  env.sim.requests.length = 0;
  const run = runProbe(probe, 40_000);
  await until(() => probePods()[0]?.spec?.nodeName === 'n1', 'the probe pod to be bound');
  assert.equal(env.sim.closeWatches(), 1);
  const r = await run;
  assert.equal(r.verdict, 'ok', r.message);
  assert.match(r.message, /; the pod watch was re-established once \(the API server closed the watch\), phases across the gap not timed$/);
  const watches = env.sim.requests.filter((q) => q.verb === 'watch');
  assert.equal(watches.length, 2);
  const rv = (q: { query: string }) => Number(new URLSearchParams(q.query).get('resourceVersion'));
  assert.ok(rv(watches[1]!) > rv(watches[0]!), 'resumed from a later resourceVersion, not from the start');
  assert.equal(env.sim.requests.filter((q) => q.verb === 'list').length, 1, 'no re-list needed');
  assert.deepEqual(probePods(), []);
});

void test('a control-plane rolling restart during a run (429 while the watch cache starts, then 410): the watch re-lists and the run is ok', async () => {
  // The image pull lasts until the watch is back: the start is timed across the gap (not at all),
  // the deletion on a live watch. Released on a timer instead, a loaded machine could start the pod
  // during the gap and have the agent delete it before the watch reopened: not timed, rightly.
  env.sim.behaviours.set({ pullInProgress: true });
  const { probe, metrics } = env.probe('n2', 'pod-scheduling', WATCH_RUN);
  env.sim.requests.length = 0;
  const run = runProbe(probe, 40_000);
  await until(() => probePods()[0]?.spec?.nodeName === 'n2', 'the probe pod to be bound');
  env.sim.restart({ initializingMs: 600_000 });
  env.sim.controlPlane.renew('kube-scheduler'); // the cluster carries on while the cache initializes
  await until(() => env.sim.requests.some((q) => q.verb === 'watch' && q.code === 429), 'the re-opened watch to meet the initializing cache');
  env.sim.finishInitializing();
  await until(() => {
    const relist = env.sim.requests.findLastIndex((q) => q.verb === 'list');
    return env.sim.requests.filter((q) => q.verb === 'list').length === 2 && env.sim.requests.slice(relist).some((q) => q.verb === 'watch' && q.code === 200);
  }, 'the watch to be open again after the re-list');
  env.sim.behaviours.set({ pullInProgress: false });
  const r = await run;
  assert.equal(r.verdict, 'ok', r.message);
  // Twice: once through the 429s, once more after the 410 and the re-list.
  assert.match(r.message, /; the pod watch was re-established 2 times \(Too Many Requests\), phases across the gap not timed$/);
  const codes = env.sim.requests.filter((q) => q.verb === 'watch').map((q) => q.code);
  assert.ok(codes.includes(429), `the watch met the initializing cache: ${codes.join(',')}`);
  assert.equal(env.sim.requests.filter((q) => q.verb === 'list').length, 2, 'one re-list after the 410');
  assert.equal(r.observations!['startup seconds'], undefined, 'the phase across the gap is not timed');
  assert.equal(await sample(metrics, 'vigil_pod_startup_duration_seconds_count'), 0);
  assert.equal(await sample(metrics, 'vigil_pod_deletion_duration_seconds_count'), 1, 'the deletion, watched live, is timed');
  assert.deepEqual(probePods(), []);
});

void test("a run that starts while a restarted API server's watch cache initialises waits out its 429s (Retry-After) and is ok", async () => {
  // The probe's list has a label selector and no limit: the cache must answer it, and answers 429
  // "storage is (re)initializing", Retry-After 1, until it is ready.
  env.sim.requests.length = 0;
  env.sim.restart({ initializingMs: 2500 });
  const r = await runProbe(env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '10s' }).probe, 40_000);
  assert.equal(r.verdict, 'ok', r.message);
  const lists = env.sim.requests.filter((q) => q.verb === 'list').map((q) => q.code);
  assert.ok(lists.length >= 2 && lists.slice(0, -1).every((c) => c === 429) && lists.at(-1) === 200, `the list retried through the 429s: ${lists.join(',')}`);
});

void test('an API outage that outlasts the startup timeout is blamed on the API, not on the pod', async () => {
  env.sim.behaviours.set({ startDelayMs: 500 });
  const { probe } = env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '3s' });
  const run = runProbe(probe);
  await until(() => probePods()[0]?.spec?.nodeName === 'n3', 'the probe pod to be bound');
  await env.sim.suspend();
  const alive = setInterval(() => undefined, 1000); // the agent's own server keeps its process up; here nothing else would
  let r;
  try {
    r = await run;
  } finally {
    clearInterval(alive);
    await env.sim.resume();
  }
  assert.equal(r.reason, 'api-error');
  assert.match(r.message, /^probe pod scheduled on n3 in \d\.\d\d s but not seen running after 3\.00 s: the watch on probe pods has been down for \d\.\d\d s: /);
});

void test('the probe pod is admitted in a namespace enforcing PodSecurity "restricted" and under a limits quota', async () => {
  env.sim.admission.namespaces.vigil = { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } };
  env.sim.admission.quotas = [{ name: 'compute', namespace: 'vigil', hard: { 'limits.cpu': '2', 'limits.memory': '1Gi', pods: '10' } }];
  // The namespace refuses an ordinary pod, so the probe pod's admission below means something.
  const plain = await fetch(`${env.sim.url}/api/v1/namespaces/vigil/pods`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { name: 'plain' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } }),
  });
  assert.equal(plain.status, 403);
  assert.match(((await plain.json()) as { message: string }).message, /violates PodSecurity "restricted:latest"/);
  const r = await runProbe(env.probe('n1', 'pod-scheduling', FAST).probe);
  assert.equal(r.verdict, 'ok', r.message);
});

void test('admission refusals are "admission-denied" with the server\'s own words, not an RBAC problem', async () => {
  const denied = async (opts: Record<string, unknown> = {}) => {
    const r = await runProbe(env.probe('n1', 'pod-scheduling', { ...FAST, ...opts }).probe);
    assert.deepEqual([r.verdict, r.reason], ['critical', 'admission-denied'], r.message);
    return r.message;
  };
  assert.equal(await denied({ priorityClassName: 'vigil-probe' }), 'create probe pod vigil/vigil-probe-n1: refused by the API server\'s admission: pods "vigil-probe-n1" is forbidden: no PriorityClass with name vigil-probe was found');
  env.sim.admission.limitedPriorityClasses = ['system-node-critical', 'system-cluster-critical'];
  assert.match(await denied({ priorityClassName: 'system-node-critical' }), /: pods "vigil-probe-n1" is forbidden: insufficient quota to match these scopes: \[\{PriorityClass In \[system-node-critical system-cluster-critical\]\}\]$/);
  env.sim.admission.quotas = [{ name: 'tight', namespace: 'vigil', hard: { pods: '0' } }];
  assert.match(await denied(), /: pods "vigil-probe-n1" is forbidden: exceeded quota: tight, requested: pods=1, used: pods=0, limited: pods=0$/);
  env.sim.admission.quotas = [];
  delete env.sim.admission.namespaces.vigil;
  assert.match(await denied(), /: namespaces "vigil" not found$/);
  assert.deepEqual(probePods(), []);
});

void test('a transient image pull error within the startup timeout is progress, not a failure', async () => {
  env.sim.behaviours.set({ imagePullError: 'failed to pull and unpack image "registry.k8s.io/pause:3.10": 503 Service Unavailable', imagePullFailures: 1, imagePullBackOffMs: 500 }, 'n4');
  const r = await runProbe(env.probe('n4', 'pod-scheduling', { ...FAST, startupTimeout: '10s' }).probe);
  assert.equal(r.verdict, 'ok', r.message);
});

void test('a transient CreateContainerError within the startup timeout is progress: the kubelet creates the container again and the run is ok', async () => {
  // The first create fails; the kubelet's next try, 1.5 s later, works. The pod cannot run before
  // that try, so a start-up of at least 1.5 s shows the run waited through the error.
  env.sim.behaviours.set({ createContainerError: 'failed to create containerd task: failed to create shim task: context deadline exceeded', createContainerFailures: 1, createContainerRetryMs: 1500 }, 'n3');
  const r = await runProbe(env.probe('n3', 'pod-scheduling', { ...FAST, startupTimeout: '10s' }).probe);
  assert.equal(r.verdict, 'ok', r.message);
  assert.ok(Number(r.observations?.['startup seconds']) >= 1.5, `started after the retried create: ${JSON.stringify(r.observations)}`);
  assert.deepEqual(probePods(), []);
});

void test('a just-started API server whose admission has not synced (403 "not yet ready") is an API error, not an admission denial', async () => {
  env.sim.restart({ initializingMs: 0, admissionNotReadyMs: 30_000, admissionWaitMs: 100 });
  const r = await runProbe(env.probe('n2', 'pod-scheduling', FAST).probe);
  assert.equal(r.reason, 'api-error', r.message);
  assert.match(r.message, /the API server is still starting \(its admission has not synced yet\): pods "vigil-probe-n2" is forbidden: not yet ready to handle request$/);
});

void test("a kubelet that rejects the pod (OutOfcpu) fails the run at once with the kubelet's message", async () => {
  env.sim.behaviours.set({ kubeletReject: 'OutOfcpu' }, 'n5');
  const r = await runProbe(env.probe('n5', 'pod-scheduling', { ...FAST, startupTimeout: '10s' }).probe);
  assert.equal(r.reason, 'kubelet-rejected');
  assert.match(r.message, /^on node n5: the kubelet rejected the pod \(OutOfcpu\): Node didn't have enough resource: cpu, requested: 1000, used: 3950, capacity: 4000$/);
  assert.deepEqual(probePods(), [], 'a failed pod is deleted at once');
});
