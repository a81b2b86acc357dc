import { badRequest, invalid } from './errors.ts';
import type { KObject } from './store.ts';

/** A core/v1 Event as vigil and client-go's recorder write it. */
export interface CoreEvent {
  metadata?: { name?: string; generateName?: string; namespace?: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string; apiVersion?: string };
  reason?: string;
  message?: string;
  type?: string;
  eventTime?: string | null;
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
  source?: { component?: string; host?: string };
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const q = (v: unknown) => JSON.stringify(v ?? '');

/**
 * Validates a core/v1 Event create as kube-apiserver does: the request namespace must match the
 * body's (handlers/create.go), legacyValidateEvent (pkg/apis/core/validation/events.go: without an
 * eventTime, an involvedObject with no namespace needs the event in "default"; with one,
 * reportingComponent, reportingInstance, action and reason are required), then the object meta
 * (rest/create.go BeforeCreate: a name or generateName). Returns the object to store.
 */
export function prepareEvent(body: unknown, namespace: string): KObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
  const e = body as CoreEvent;
  const m = e.metadata ?? {};
  if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  const involvedNs = e.involvedObject?.namespace ?? '';
  const errs: { field: string; message: string; reason?: string }[] = [];
  const mismatch = { field: 'involvedObject.namespace', reason: 'FieldValueInvalid', message: `Invalid value: ${q(involvedNs)}: does not match event.namespace` };
  if (!e.eventTime) {
    if (involvedNs === '' ? namespace !== 'default' : namespace !== involvedNs) errs.push(mismatch);
  } else {
    if (involvedNs === '' && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch);
    const rc = e.reportingComponent ?? '';
    if (rc === '') errs.push({ field: 'reportingController', message: 'Required value' });
    else if (!QUALIFIED_NAME.test(rc))
      errs.push({ field: 'reportingController', reason: 'FieldValueInvalid', message: `Invalid value: ${q(rc)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
    if (!e.reportingInstance) errs.push({ field: 'reportingInstance', message: 'Required value' });
    else if (e.reportingInstance.length > 128) errs.push({ field: 'reportingInstance', reason: 'FieldValueInvalid', message: 'Invalid value: "": can have at most 128 characters' });
    if (!e.action) errs.push({ field: 'action', message: 'Required value' });
    if (!e.reason) errs.push({ field: 'reason', message: 'Required value' });
    else if (e.reason.length > 128) errs.push({ field: 'reason', reason: 'FieldValueInvalid', message: 'Invalid value: "": can have at most 128 characters' });
    if ((e.message ?? '').length > 1024) errs.push({ field: 'message', reason: 'FieldValueInvalid', message: 'Invalid value: "": can have at most 1024 characters' });
  }
  if (errs.length > 0) throw invalid('Event', m.name ?? '', errs);
  let name = m.name ?? '';
  if (!name && m.generateName) name = `${m.generateName}${Math.random().toString(36).slice(2, 7)}`;
  if (!name) throw invalid('Event', '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  // core/v1 names pass only path.ValidateObjectName (apiserver/pkg/registry/rest/create.go)
  const segment = name === '.' || name === '..' ? `may not be '${name}'` : name.includes('/') ? "may not contain '/'" : name.includes('%') ? "may not contain '%'" : undefined;
  if (segment) throw invalid('Event', name, [{ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: ${q(name)}: ${segment}` }]);
  return { ...(e as Record<string, unknown>), apiVersion: 'v1', kind: 'Event', metadata: { ...m, name, namespace } } as unknown as KObject;
}
