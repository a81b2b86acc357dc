// deploy/base/rbac.yaml is enough for the Kubernetes probes, and each permission in it is needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { RbacRule } from './support/apisim/index.ts';
import { K8sProbeEnv, runProbe } from './support/k8s-probe-env.ts';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: (Omit<RbacRule, 'namespace'> & { nonResourceURLs?: string[] })[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

const docs = parseAllDocuments(readFileSync(path.join(import.meta.dirname, '../deploy/base/rbac.yaml'), 'utf8')).map((d) => d.toJS() as Doc);

/** The resource rules bound to the vigil/vigil service account, each tagged with its Role's namespace. */
function grantedRules(): RbacRule[] {
  const rules: RbacRule[] = [];
  for (const b of docs.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')) {
    if (!b.subjects!.some((s) => s.kind === 'ServiceAccount' && s.name === 'vigil' && s.namespace === 'vigil')) continue;
    const role = docs.find((d) => d.kind === b.roleRef!.kind && d.metadata.name === b.roleRef!.name && (d.kind === 'ClusterRole' || d.metadata.namespace === b.metadata.namespace));
    assert.ok(role, `${b.kind} ${b.metadata.name} refers to a role in the file`);
    for (const r of role.rules ?? []) {
      if (r.nonResourceURLs) continue;
      rules.push({ ...(b.kind === 'RoleBinding' ? { namespace: b.metadata.namespace } : {}), apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) });
    }
  }
  return rules;
}

let env: K8sProbeEnv;
before(async () => {
  env = await K8sProbeEnv.start({ nodes: ['n1'] });
});
after(async () => env.stop());

const FAST = { schedulingTimeout: '2s', startupTimeout: '3s', deletionTimeout: '5s' };
async function runAll() {
  const out: Record<string, { verdict: string; reason?: string; message: string }> = {};
  for (const [name, opts] of [['pod-scheduling', FAST], ['apiserver', {}], ['control-plane', {}]] as const) out[name] = await runProbe(env.probe('n1', name, opts).probe);
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
