// The Kubernetes probes over HTTPS, as every real API server serves: the kubeconfig's CA checks the
// server's certificate for the generated clients, the watch and the health endpoints alike.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeKubeconfig } from './support/apisim/index.ts';
import { K8sProbeEnv, runProbe } from './support/k8s-probe-env.ts';
import { makeCa } from './support/tls-certs.ts';

let env: K8sProbeEnv;
before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['s1'], https: true });
});
after(() => env.stop());

void test("with the cluster's CA, every Kubernetes probe is ok over HTTPS: health endpoints, leases, and a probe pod listed, watched, created and deleted", async () => {
  assert.match(env.sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  for (const name of ['apiserver', 'control-plane', 'pod-scheduling']) {
    const r = await runProbe(env.probe('s1', name, name === 'pod-scheduling' ? { schedulingTimeout: '5s', startupTimeout: '10s', deletionTimeout: '10s' } : {}).probe);
    assert.equal(r.verdict, 'ok', `${name}: ${r.message}`);
  }
  const https = env.sim.requests.filter((q) => q.code === 200);
  assert.ok(https.some((q) => q.verb === 'watch') && https.some((q) => q.path === '/livez'), 'the watch and the health endpoints went over HTTPS too');
});

void test('a server certificate from another CA is refused, and the run says so: an API error naming the certificate, not a pass', async () => {
  const other = makeCa(env.dir, 'other-ca');
  const kubeconfig = writeKubeconfig(path.join(env.dir, 'other-kubeconfig'), { server: env.sim.url, token: env.sim.token, caFile: other.cert });
  env.sim.requests.length = 0;
  const health = await runProbe(env.probe('s1', 'apiserver', {}, kubeconfig).probe);
  assert.deepEqual([health.verdict, health.reason], ['critical', 'api-error']);
  const untrusted =
    /the API server's certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\): check the cluster CA vigil is given \(the service account's ca\.crt, or the kubeconfig's certificate-authority\)$/;
  assert.match(health.message, /^GET https:\/\/127\.0\.0\.1:\d+\/livez: /);
  assert.match(health.message, untrusted);
  const pod = await runProbe(env.probe('s1', 'pod-scheduling', {}, kubeconfig).probe);
  assert.deepEqual([pod.verdict, pod.reason], ['critical', 'api-error']);
  assert.match(pod.message, /^read node s1: /);
  assert.match(pod.message, untrusted);
  assert.deepEqual(env.sim.requests, [], 'no request got through');
});
