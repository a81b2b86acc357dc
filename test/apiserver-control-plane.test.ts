// The apiserver and control-plane probes against the API simulator.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { K8sProbeEnv, runProbe, sample, until } from './support/k8s-probe-env.ts';

let env: K8sProbeEnv;

before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1'] });
});
after(async () => env.stop());
beforeEach(async () => {
  env.sim.reset();
  await env.sim.resume();
  for (const c of ['kube-scheduler', 'kube-controller-manager']) env.sim.controlPlane.set(c, { autoRenew: true });
});

void test('apiserver: /livez and /readyz timed per endpoint; ok names both', async () => {
  const { probe, metrics } = env.probe('n1', 'apiserver');
  const r = await runProbe(probe);
  assert.equal(r.verdict, 'ok', r.message);
  assert.match(r.message, /^\/livez ok in \d+ ms, \/readyz ok in \d+ ms$/);
  assert.equal(await sample(metrics, 'vigil_apiserver_request_duration_seconds_count', { path: 'livez' }), 1);
  assert.equal(await sample(metrics, 'vigil_apiserver_request_duration_seconds_count', { path: 'readyz' }), 1);
  const paths = env.sim.requests.slice(-2).map((q) => `${q.path}${q.query}`);
  assert.deepEqual(paths, ['/livez?verbose', '/readyz?verbose']);
});

void test('apiserver: failing checks are named from the verbose output', async () => {
  env.sim.health.failing.readyz = ['etcd', 'informer-sync'];
  const r = await runProbe(env.probe('n1', 'apiserver').probe);
  assert.deepEqual([r.verdict, r.reason], ['critical', 'readyz-failed']);
  assert.equal(r.message, 'API server not ready (/readyz): failing checks: etcd, informer-sync');
  env.sim.health.failing.livez = ['etcd'];
  const l = await runProbe(env.probe('n1', 'apiserver').probe);
  assert.equal(l.reason, 'livez-failed');
  assert.equal(l.message, 'API server not live (/livez): failing checks: etcd; API server not ready (/readyz): failing checks: etcd, informer-sync');
});

void test('apiserver: slow answers are a warning; 5xx without checks and an outage are critical', async () => {
  env.sim.faults.set({ latencyMs: 150 });
  const slow = await runProbe(env.probe('n1', 'apiserver', { latencyWarning: '100ms' }).probe);
  assert.deepEqual([slow.verdict, slow.reason], ['warning', 'slow']);
  assert.match(slow.message, /^\/livez took \d+ ms \(warning above 100 ms\); \/readyz took \d+ ms/);
  env.sim.faults.set({ latencyMs: 0, errorBurst: { count: 1, code: 503 } });
  const burst = await runProbe(env.probe('n1', 'apiserver').probe);
  assert.equal(burst.reason, 'livez-failed');
  assert.match(burst.message, /^API server not live \(\/livez\): HTTP 503: \{"kind":"Status"/);
  await env.sim.suspend();
  const down = await runProbe(env.probe('n1', 'apiserver').probe);
  assert.deepEqual([down.verdict, down.reason], ['critical', 'api-error']);
  assert.match(down.message, /^GET http:\/\/127\.0\.0\.1:\d+\/livez: cannot reach the API server: ECONNREFUSED/);
});

void test('control-plane: fresh leases are ok and their ages exported per component', async () => {
  const { probe, metrics } = env.probe('n1', 'control-plane');
  const r = await runProbe(probe);
  assert.equal(r.verdict, 'ok', r.message);
  assert.match(r.message, /^kube-scheduler lease renewed \d s ago, kube-controller-manager lease renewed \d s ago$/);
  const age = await sample(metrics, 'vigil_control_plane_lease_age_seconds', { component: 'kube-scheduler' });
  assert.ok(age !== undefined && age >= 0 && age < 5, `age ${age}`);
});

void test('control-plane: a stale lease names its component as down, with the age and holder', async () => {
  env.sim.controlPlane.set('kube-controller-manager', { ageSeconds: 125 });
  const { probe, metrics } = env.probe('n1', 'control-plane');
  const r = await runProbe(probe);
  assert.deepEqual([r.verdict, r.reason], ['critical', 'lease-stale']);
  assert.match(r.message, /^kube-controller-manager is down: its leader lease kube-system\/kube-controller-manager was last renewed 125 s ago by control-plane-1_[0-9a-f-]+ \(limit 30 s\)$/);
  const age = (await sample(metrics, 'vigil_control_plane_lease_age_seconds', { component: 'kube-controller-manager' }))!;
  assert.ok(Math.abs(age - 125) < 2, `age ${age}`);
  const relaxed = await runProbe(env.probe('n1', 'control-plane', { maxLeaseAge: '5m' }).probe);
  assert.equal(relaxed.verdict, 'ok', 'the threshold is configurable');
});

void test('control-plane: a missing lease has its own message; RBAC denial names the permission', async () => {
  env.sim.controlPlane.set('kube-scheduler', { remove: true });
  const r = await runProbe(env.probe('n1', 'control-plane').probe);
  assert.deepEqual([r.verdict, r.reason], ['warning', 'lease-missing']);
  assert.equal(r.message, 'no leader lease kube-system/kube-scheduler: kube-scheduler has never held leadership here, or runs without --leader-elect, so its health cannot be judged');
  env.sim.faults.set({ denials: [{ verb: 'get', resource: 'leases', namespace: 'kube-system' }] });
  const f = await runProbe(env.probe('n1', 'control-plane').probe);
  assert.equal(f.reason, 'forbidden');
  assert.match(f.message, /may not get leases\.coordination\.k8s\.io in namespace "kube-system"; grant verb "get" on resource "leases" \(API group "coordination\.k8s\.io"\)/);
});

void test('apiserver: a rejected token is a 401 from the health endpoints too, reported as bad credentials', async () => {
  const { writeKubeconfig } = await import('./support/apisim/index.ts');
  writeKubeconfig(env.kubeconfig, { server: env.sim.url, token: 'expired-token' });
  try {
    const r = await runProbe(env.probe('n1', 'apiserver').probe);
    assert.deepEqual([r.verdict, r.reason], ['critical', 'forbidden']);
    assert.equal(
      r.message,
      "/livez answered 401 Unauthorized: the API server rejected vigil's credentials; check the service account token or kubeconfig; /readyz answered 401 Unauthorized: the API server rejected vigil's credentials; check the service account token or kubeconfig",
    );
  } finally {
    writeKubeconfig(env.kubeconfig, { server: env.sim.url, token: env.sim.token });
  }
});

void test('control-plane: after an API outage the leaders get maxLeaseAge to take their leases back before one is called stale', async () => {
  // Short leader-election timings, the same shape as the defaults (15 s leases, a 10 s renew deadline).
  const upgrade = await K8sProbeEnv.start({ nodes: ['n1'], leaseRenewIntervalMs: 200, leaderElection: { leaseDurationSeconds: 2, renewDeadlineMs: 2000, restartMs: 500 } });
  try {
    const lease = () => upgrade.sim.store.get('leases', 'kube-system', 'kube-scheduler')!.spec as { holderIdentity: string; acquireTime: string; renewTime: string; leaseTransitions: number };
    const { probe } = upgrade.probe('n1', 'control-plane', { maxLeaseAge: '8s' });
    assert.equal((await runProbe(probe)).verdict, 'ok');
    const before = lease();

    // The API server gone for 9 s: nobody renews, and the leaders, past their renew deadline, exit.
    await upgrade.sim.suspend();
    assert.equal((await runProbe(probe)).reason, 'api-error');
    await new Promise((r) => setTimeout(r, 9000));
    assert.equal(lease().renewTime, before.renewTime, 'no lease renewed while the API server was down');
    await upgrade.sim.resume();
    const back = Date.now();

    // The lease is 9 s old, past maxLeaseAge, but no leader could have renewed it: not stale yet.
    const first = await runProbe(probe);
    assert.equal(first.verdict, 'ok', first.message);
    assert.equal(lease().holderIdentity, before.holderIdentity, 'the new instance waits a lease duration before taking over');
    // The restarted component takes over a lease duration after it first saw the record, as a new holder.
    const taken = await until(() => (lease().holderIdentity !== before.holderIdentity ? lease() : undefined), 'a new kube-scheduler instance to take the lease', 15_000);
    assert.equal(taken.leaseTransitions, before.leaseTransitions + 1);
    assert.ok(Date.parse(taken.acquireTime) - back >= 2000, `acquired ${Date.parse(taken.acquireTime) - back} ms after the API server answered again`);
    assert.equal((await runProbe(probe)).verdict, 'ok');

    // A leader that then stops renewing is stale as before, once maxLeaseAge has passed since the server answered again.
    upgrade.sim.controlPlane.set('kube-scheduler', { ageSeconds: 60 });
    const stale = await until(
      async () => {
        const r = await runProbe(probe);
        return r.reason === 'lease-stale' ? { r, at: Date.now() } : undefined;
      },
      'the lease unrenewed since to be reported stale',
      20_000,
    );
    assert.ok(stale.at - back > 8000, `stale ${stale.at - back} ms after the API server answered again`);
    assert.match(stale.r.message, /^kube-scheduler is down: its leader lease kube-system\/kube-scheduler was last renewed 6\d s ago/);
  } finally {
    await upgrade.stop();
  }
});
