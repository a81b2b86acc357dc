import { randomBytes } from 'node:crypto';
import { badRequest, conflict, invalid } from './errors.ts';
import type { KObject, Store } from './store.ts';

type Spec = Record<string, unknown>;

type FieldError = { field: string; message: string; reason?: string };

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const q = (v: unknown) => JSON.stringify(v ?? '');

/** Quantity in base units, enough to compare a request with its limit. */
function quantity(v: string): number {
  const m = /^([+-]?[\d.]+)(.*)$/.exec(v)!;
  const mult: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };
  return Number(m[1]) * (mult[m[2]!] ?? Number(`1${m[2]}`));
}

/** pkg/apis/core/validation ValidateTolerations, message for message. */
function validateTolerations(tols: Spec[], errs: FieldError[]): void {
  tols.forEach((t, i) => {
    const f = `spec.tolerations[${i}]`;
    const key = (t.key as string | undefined) ?? '';
    const op = (t.operator as string | undefined) ?? '';
    const value = (t.value as string | undefined) ?? '';
    const effect = (t.effect as string | undefined) ?? '';
    if (key && (!QUALIFIED_NAME.test(key) || key.split('/').at(-1)!.length > 63))
      errs.push({ field: `${f}.key`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
    if (!key && op !== 'Exists') errs.push({ field: `${f}.operator`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(op)}: operator must be Exists when \`key\` is empty, which means "match all values and all keys"` });
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute')
      errs.push({ field: `${f}.effect`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(effect)}: effect must be 'NoExecute' when \`tolerationSeconds\` is set` });
    if (op === 'Equal' || op === '') {
      if (!LABEL_VALUE.test(value) || value.length > 63)
        errs.push({
          field: `${f}.operator`,
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${q(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        });
    } else if (op === 'Exists') {
      if (value) errs.push({ field: `${f}.operator`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(t)}: value must be empty when \`operator\` is 'Exists'` });
    } else errs.push({ field: `${f}.operator`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${q(op)}: supported values: "Equal", "Exists"` });
    if (effect && !EFFECTS.includes(effect)) errs.push({ field: `${f}.effect`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${q(effect)}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"` });
  });
}

/** Required node affinity as ValidateNodeSelector checks it: terms present, matchFields only on metadata.name with one value. */
function validateAffinity(spec: Spec, errs: FieldError[]): void {
  const req = ((spec.affinity as Spec | undefined)?.nodeAffinity as Spec | undefined)?.requiredDuringSchedulingIgnoredDuringExecution as { nodeSelectorTerms?: Spec[] } | undefined;
  if (!req) return;
  const f = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
  if (!req.nodeSelectorTerms?.length) errs.push({ field: f, message: 'Required value: must have at least one node selector term' });
  (req.nodeSelectorTerms ?? []).forEach((t, i) => {
    ((t.matchFields as Spec[] | undefined) ?? []).forEach((r, j) => {
      const rf = `${f}[${i}].matchFields[${j}]`;
      if (r.key !== 'metadata.name') errs.push({ field: `${rf}.key`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(r.key)}: not a valid field selector key` });
      const values = (r.values as unknown[] | undefined) ?? [];
      if ((r.operator === 'In' || r.operator === 'NotIn') && values.length !== 1) errs.push({ field: `${rf}.values`, message: `Required value: must be only one value when \`operator\` is 'In' or 'NotIn' for node field selector` });
      else if (r.operator !== 'In' && r.operator !== 'NotIn') errs.push({ field: `${rf}.operator`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(r.operator)}: not a valid selector operator` });
    });
  });
}

/** Container resources: valid quantities, requests not above limits. */
function validateResources(c: Spec, i: number, errs: FieldError[]): void {
  const r = (c.resources as { limits?: Record<string, unknown>; requests?: Record<string, unknown> } | undefined) ?? {};
  const f = `spec.containers[${i}].resources`;
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, v] of Object.entries(r[kind] ?? {})) {
      if (typeof v !== 'string' || !QUANTITY.test(v))
        errs.push({ field: `${f}.${kind}[${name}]`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(v)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` });
    }
  }
  for (const [name, v] of Object.entries(r.requests ?? {})) {
    const lim = r.limits?.[name];
    if (typeof v === 'string' && typeof lim === 'string' && QUANTITY.test(v) && QUANTITY.test(lim) && quantity(v) > quantity(lim)) {
      errs.push({ field: `${f}.requests`, reason: 'FieldValueInvalid', message: `Invalid value: ${q(v)}: must be less than or equal to ${name} limit of ${lim}` });
    }
  }
}

/** Field errors as the API server's validation reports them (pkg/apis/core/validation); empty: valid. */
export function validatePod(pod: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = pod.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    errs.push({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63)
      errs.push({
        field: 'metadata.labels',
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${q(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    if (!QUALIFIED_NAME.test(k))
      errs.push({ field: 'metadata.labels', reason: 'FieldValueInvalid', message: `Invalid value: ${q(k)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
  }
  const spec = pod.spec ?? {};
  const containers = (spec.containers as Spec[] | undefined) ?? [];
  if (containers.length === 0) errs.push({ field: 'spec.containers', message: 'Required value' });
  containers.forEach((c, i) => {
    if (!c.name) errs.push({ field: `spec.containers[${i}].name`, message: 'Required value' });
    if (!c.image) errs.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
    validateResources(c, i, errs);
  });
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== 'number' || deadline <= 0)) {
    errs.push({ field: 'spec.activeDeadlineSeconds', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(deadline)}: must be between 1 and 2147483647, inclusive` });
  }
  validateTolerations((spec.tolerations as Spec[] | undefined) ?? [], errs);
  validateAffinity(spec, errs);
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
  // rest/delete.go BeforeDelete checks the preconditions first, naming the resource by its kind
  // ("Pod"), before the storage layer would
  const kind = { resource: 'Pod', group: '', name };
  if (pre?.uid && pre.uid !== pod.metadata.uid) {
    throw conflict(kind, `the UID in the precondition (${pre.uid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata.resourceVersion) {
    throw conflict(kind, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${pod.metadata.resourceVersion}). The object might have been deleted and then recreated`);
  }
  const phase = pod.status?.phase;
  // rest/delete.go BeforeDelete: negative values are treated as 1 s.
  const asked = opts.gracePeriodSeconds === undefined ? undefined : opts.gracePeriodSeconds < 0 ? 1 : opts.gracePeriodSeconds;
  let grace: number;
  const current = pod.metadata.deletionGracePeriodSeconds;
  if (pod.metadata.deletionTimestamp && current !== undefined && current !== 0) {
    // A deletion already pending (BeforeDelete, before the pod's CheckGracefulDelete): only a
    // shorter grace period given in the request changes it; none given, it is left as it is.
    if (asked === undefined || asked >= current) return pod;
    grace = asked;
  } else if (pod.metadata.deletionTimestamp) {
    grace = 0; // pending with no or a zero grace period: removed now (BeforeDelete's recovery path)
  } else {
    grace = asked ?? (pod.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30;
    if (!pod.spec?.nodeName || phase === 'Failed' || phase === 'Succeeded') grace = 0;
  }
  const marked = store.update('pods', namespace, name, (p) => {
    p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    p.metadata.deletionGracePeriodSeconds = grace;
  });
  if (grace > 0) return marked;
  return store.remove('pods', namespace, name);
}
