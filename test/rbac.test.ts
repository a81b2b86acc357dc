// deploy/base/rbac.yaml is enough for the Kubernetes probes, and each permission in it is needed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { grantedRules as grantedRulesOf, rbacDocs } from './support/rbac-rules.ts';
import { K8sProbeEnv, runProbe } from './support/k8s-probe-env.ts';

const docs = rbacDocs('deploy/base/rbac.yaml');
const grantedRules = () => grantedRulesOf(docs);

let env: K8sProbeEnv;
before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1'] });
});
after(async () => env.stop());

const FAST = { schedulingTimeout: '2s', startupTimeout: '3s', deletionTimeout: '5s' };
async function runAll() {
  const out: Record<string, { verdict: string; reason?: string; message: string }> = {};
  for (const [name, opts] of [
    ['pod-scheduling', FAST],
    ['apiserver', {}],
    ['control-plane', {}],
  ] as const)
    out[name] = await runProbe(env.probe('n1', name, opts).probe);
  return out;
}

void test('the ServiceAccount is vigil/vigil and no rule uses a wildcard', () => {
  assert.ok(docs.some((d) => d.kind === 'ServiceAccount' && d.metadata.name === 'vigil' && d.metadata.namespace === 'vigil'));
  for (const d of docs) for (const r of d.rules ?? []) for (const list of [r.apiGroups ?? [], r.resources ?? [], r.verbs]) assert.ok(!list.includes('*'), `${d.kind} ${d.metadata.name} has a wildcard`);
});

void test('with exactly the permissions of rbac.yaml, every Kubernetes probe passes', async () => {
  env.sim.faults.set({ rbac: grantedRules() });
  try {
    for (const [name, r] of Object.entries(await runAll())) assert.equal(r.verdict, 'ok', `${name}: ${r.message}`);
  } finally {
    env.sim.faults.set({ rbac: undefined });
  }
});

void test('taking away any one verb makes a probe report it as forbidden', async () => {
  const rules = grantedRules();
  // Granted for peer discovery (reading pods by name), which these probes do not do.
  const forOthers = new Set(['vigil pods get']);
  let checked = 0;
  for (const [i, rule] of rules.entries()) {
    for (const verb of rule.verbs) {
      const label = `${rule.namespace ?? 'cluster'} ${rule.resources.join(',')} ${verb}`;
      if (forOthers.has(label)) continue;
      const fewer = rules.map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r));
      env.sim.faults.set({ rbac: fewer });
      try {
        const results = Object.values(await runAll());
        const denied = results.find((r) => r.reason === 'forbidden');
        assert.ok(denied, `without ${label} no probe failed: the permission is not needed`);
        assert.match(denied.message, new RegExp(`may not ${verb} `), label);
      } finally {
        env.sim.faults.set({ rbac: undefined });
      }
      checked++;
    }
  }
  assert.equal(checked, 6, 'pods create/delete/list/watch, nodes get, leases get');
});
