import { badRequest, unsupportedPatchType } from './errors.ts';
import type { Resource } from './store.ts';

/** The patch types kube-apiserver accepts (handlers/patch.go); the simulator applies the first two. */
export type PatchType = 'merge' | 'strategic';

/**
 * The patch type of a request's Content-Type. JSON patch and server-side apply are accepted by the
 * real server; the simulator does not model them and answers as for an unknown type (415).
 */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/strategic-merge-patch+json') return 'strategic';
  throw unsupportedPatchType();
}

/** RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The lists the Go types mark `patchStrategy:"merge"`, by path, with their `patchMergeKey`
 * (k8s.io/api/core/v1/types.go): NodeStatus.Conditions and Addresses by type, PodStatus.Conditions
 * by type. Lists not named here are replaced whole, as in a merge patch.
 */
const MERGE_KEYS: Partial<Record<Resource, Record<string, string>>> = {
  nodes: { 'status.conditions': 'type', 'status.addresses': 'type' },
  pods: { 'status.conditions': 'type' },
};

/**
 * A strategic merge patch (apimachinery/pkg/util/strategicpatch, StrategicMergePatch) for the
 * fields vigil and kubectl write: maps merge as in a merge patch; a list with a merge key merges
 * element by element on that key (a new key is appended, `$patch: delete` removes one); other
 * lists are replaced. `$setElementOrder/<list>` directives are read and dropped; `$retainKeys` and
 * `$patch: replace` are not modelled (400).
 */
export function strategicMergePatch(resource: Resource, target: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) continue;
    if (k === '$retainKeys' || k === '$patch') throw badRequest(`the simulator does not model the strategic merge directive ${k}`);
    const at = path ? `${path}.${k}` : k;
    const mergeKey = MERGE_KEYS[resource]?.[at];
    if (v === null) delete out[k];
    else if (mergeKey && Array.isArray(v)) out[k] = mergeList(resource, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, mergeKey, at);
    else out[k] = strategicMergePatch(resource, out[k], v, at);
  }
  return out;
}

function mergeList(resource: Resource, current: unknown[], patch: unknown[], mergeKey: string, path: string): unknown[] {
  const out = [...current];
  for (const item of patch) {
    if (!isObject(item) || typeof item[mergeKey] !== 'string') throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const i = out.findIndex((e) => isObject(e) && e[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMergePatch(resource, out[i], item, path);
    else out.push(strategicMergePatch(resource, {}, item, path));
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
