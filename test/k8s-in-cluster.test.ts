// The agent with in-cluster credentials, as the DaemonSet runs it: no kubeconfig, the API server
// from KUBERNETES_SERVICE_HOST/PORT over HTTPS, the service account's token, ca.crt and namespace
// from /var/run/secrets/kubernetes.io/serviceaccount (here a directory of the test's, mounted
// there in a mount namespace of the agent's own). The token's rotation, with the image as the
// DaemonSet runs it, is in test/container.test.ts.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { spawnAgent, type AgentProcess } from './support/agent-process.ts';
import { K8sProbeEnv, until } from './support/k8s-probe-env.ts';

let env: K8sProbeEnv;
let agent: AgentProcess | undefined;
const NODE = 'ic1';

before(async () => {
  env = await K8sProbeEnv.start({ nodes: [NODE], https: true });
});
after(async () => {
  agent?.kill();
  await agent?.exited;
  await env.stop();
});

/** The agent's own view: each probe's verdict and message. */
async function probes(a: AgentProcess): Promise<Record<string, { verdict: string; message: string }>> {
  const s = (await (await fetch(`${a.url}/api/v1/status/local`)).json()) as { probes: { name: string; verdict: string; message: string }[] };
  return Object.fromEntries(s.probes.map((p) => [p.name, p]));
}

void test("in-cluster credentials over HTTPS: the probes are ok with the service account's token, CA and namespace", { timeout: 120_000 }, async () => {
  // The service account's files, as the kubelet projects them.
  const sa = path.join(env.dir, 'serviceaccount');
  mkdirSync(sa);
  copyFileSync(env.caFile!, path.join(sa, 'ca.crt'));
  writeFileSync(path.join(sa, 'namespace'), 'vigil');
  writeFileSync(path.join(sa, 'token'), env.sim.token);
  const port = new URL(env.sim.url).port;
  // /var/run is /run here: a tmpfs over it in the agent's mount namespace, the directory bound under it.
  const mountSecrets = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && mount --bind "$0" /run/secrets/kubernetes.io/serviceaccount && exec "$@"';
  agent = await spawnAgent({
    prefix: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', mountSecrets, sa],
    env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
    config: stringify({
      node: { name: NODE },
      storage: { path: path.join(env.dir, 'data') },
      kubernetes: { namespace: 'vigil' },
      probes: {
        node: { enabled: false },
        apiserver: { enabled: true, interval: '1s' },
        'control-plane': { enabled: true, interval: '2s' },
        'pod-scheduling': { enabled: true, interval: '3s', schedulingTimeout: '5s', startupTimeout: '10s', deletionTimeout: '10s' },
      },
    }),
  });
  const a = agent;
  const allOk = async () => {
    const p = await probes(a);
    return ['apiserver', 'control-plane', 'pod-scheduling'].every((n) => p[n]?.verdict === 'ok') ? p : undefined;
  };
  await until(allOk, 'every Kubernetes probe ok with the in-cluster credentials', 60_000);
  assert.ok(
    env.sim.requests.some((q) => q.verb === 'create' && q.resource === 'pods' && q.code === 201),
    'a probe pod was created with them',
  );
});
