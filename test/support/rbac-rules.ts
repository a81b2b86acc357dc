import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { RbacRule } from './apisim/index.ts';

export interface RbacDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: (Omit<RbacRule, 'namespace'> & { nonResourceURLs?: string[] })[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

const root = path.resolve(import.meta.dirname, '../..');

/** The objects of RBAC manifests, by path from the repository's root. */
export const rbacDocs = (...files: string[]): RbacDoc[] => files.flatMap((f) => parseAllDocuments(readFileSync(path.join(root, f), 'utf8')).map((d) => d.toJS() as RbacDoc));

/** The resource rules bound to the vigil/vigil service account, each tagged with its Role's namespace: what the simulator's authorizer then allows. */
export function grantedRules(docs: readonly RbacDoc[]): RbacRule[] {
  const rules: RbacRule[] = [];
  for (const b of docs.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')) {
    if (!b.subjects!.some((s) => s.kind === 'ServiceAccount' && s.name === 'vigil' && s.namespace === 'vigil')) continue;
    const role = docs.find((d) => d.kind === b.roleRef!.kind && d.metadata.name === b.roleRef!.name && (d.kind === 'ClusterRole' || d.metadata.namespace === b.metadata.namespace));
    assert.ok(role, `${b.kind} ${b.metadata.name} refers to a role in the files`);
    for (const r of role.rules ?? []) {
      if (r.nonResourceURLs) continue;
      rules.push({ ...(b.kind === 'RoleBinding' ? { namespace: b.metadata.namespace } : {}), apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) });
    }
  }
  return rules;
}
