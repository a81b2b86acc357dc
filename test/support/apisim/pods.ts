import { randomBytes } from 'node:crypto';
import { badRequest, conflict, invalid } from './errors.ts';
import { refOf, type KObject, type Store } from './store.ts';

type Spec = Record<string, unknown>;

/** Field errors as the API server's validation reports them; empty: valid. */
export function validatePod(pod: KObject): { field: string; message: string; reason?: string }[] {
  const errs: { field: string; message: string; reason?: string }[] = [];
  const name = pod.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    errs.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  }
  const containers = (pod.spec?.containers as Spec[] | undefined) ?? [];
  if (containers.length === 0) errs.push({ field: 'spec.containers', message: 'Required value' });
  containers.forEach((c, i) => {
    if (!c.name) errs.push({ field: `spec.containers[${i}].name`, message: 'Required value' });
    if (!c.image) errs.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
  });
  const deadline = pod.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== 'number' || deadline <= 0)) {
    errs.push({ field: 'spec.activeDeadlineSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(deadline)}: must be between 1 and 2147483647, inclusive` });
  }
  return errs;
}

/** What the API server fills in on create: name from generateName, scheduler, grace period, status. */
export function preparePod(body: KObject, namespace: string): KObject {
  if (!body || typeof body !== 'object' || !body.metadata) throw badRequest('the body of the request was in an unknown format');
  const m = body.metadata;
  if (m.namespace && m.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (!m.name && m.generateName) m.name = `${m.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
  if (!m.name) throw invalid('Pod', '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  const spec: Spec = { ...body.spec };
  spec.schedulerName ??= 'default-scheduler';
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.tolerations = [
    ...((spec.tolerations as Spec[] | undefined) ?? []),
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  const pod: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: { ...m, namespace }, spec, status: { phase: 'Pending', qosClass: 'Burstable' } };
  const errs = validatePod(pod);
  if (errs.length > 0) throw invalid('Pod', m.name, errs);
  return pod;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/**
 * Deletes a pod as the API server does (registry/core/pod/strategy.go CheckGracefulDelete, then
 * registry/generic/registry/store.go): the grace period is the request's, else the pod's
 * terminationGracePeriodSeconds, and 0 for a pod never bound or already finished. The pod is first
 * written with its deletionTimestamp (a MODIFIED event, even at grace 0); at grace 0 it is then
 * removed at once, otherwise its kubelet finishes the deletion.
 */
export function deletePod(store: Store, namespace: string, name: string, opts: DeleteOptions): KObject {
  const pod = store.mustGet('pods', namespace, name);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== pod.metadata.uid) {
    throw conflict(refOf('pods', name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata.resourceVersion) {
    throw conflict(refOf('pods', name), `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`);
  }
  const phase = pod.status?.phase;
  // rest.BeforeDelete: negative values are treated as 1 s.
  const asked = opts.gracePeriodSeconds;
  let grace = asked === undefined ? ((pod.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30) : asked < 0 ? 1 : asked;
  if (!pod.spec?.nodeName || phase === 'Failed' || phase === 'Succeeded') grace = 0;
  const current = pod.metadata.deletionGracePeriodSeconds;
  // A deletion already pending is only ever shortened.
  if (current !== undefined && current <= grace) return pod;
  const marked = store.update('pods', namespace, name, (p) => {
    p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    p.metadata.deletionGracePeriodSeconds = grace;
  });
  if (grace > 0) return marked;
  return store.remove('pods', namespace, name);
}
