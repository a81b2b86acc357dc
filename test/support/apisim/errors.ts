/** metav1.Status bodies as the API server writes them. */

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

/** A failure a handler throws; the server turns it into a Status response. */
export class StatusError extends Error {
  readonly status: Status;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string>;
  /** Sent as text/plain instead of a Status body, as some filters answer. */
  readonly plain: string | undefined;
  constructor(status: Status, opts: { headers?: Record<string, string>; plain?: string } = {}) {
    super(status.message);
    this.status = status;
    this.headers = opts.headers ?? {};
    this.plain = opts.plain;
  }
}

const failure = (code: number, reason: string, message: string, details?: Status['details']): StatusError =>
  new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

export interface ResourceRef {
  resource: string;
  group: string;
  name?: string;
  /** `status` for nodes/status: RBAC names it `nodes/status`; NotFound and the 403's subject name the resource. */
  subresource?: string;
}

/** The resource as RBAC rules and the authorizer's message name it: `nodes/status`. */
export const rbacResource = (r: ResourceRef) => (r.subresource ? `${r.resource}/${r.subresource}` : r.resource);

const groupDetails = (r: ResourceRef) => ({ ...(r.name ? { name: r.name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.resource });

export const notFound = (r: ResourceRef) => failure(404, 'NotFound', `${r.resource}${r.group ? `.${r.group}` : ''} "${r.name}" not found`, groupDetails(r));

export const alreadyExists = (r: ResourceRef) => failure(409, 'AlreadyExists', `${r.resource}${r.group ? `.${r.group}` : ''} "${r.name}" already exists`, groupDetails(r));

export const conflict = (r: ResourceRef, why: string) => failure(409, 'Conflict', `Operation cannot be fulfilled on ${r.resource}${r.group ? `.${r.group}` : ''} "${r.name}": ${why}`, groupDetails(r));

/** The RBAC denial, word for word as the authorizer phrases it. */
export function forbidden(r: ResourceRef, user: string, verb: string, namespace: string | undefined): StatusError {
  const subject = r.name ? `${r.resource}${r.group ? `.${r.group}` : ''} "${r.name}"` : `${r.resource}${r.group ? `.${r.group}` : ''}`;
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  return failure(403, 'Forbidden', `${subject} is forbidden: User "${user}" cannot ${verb} resource "${rbacResource(r)}" in API group "${r.group}" ${scope}`, groupDetails(r));
}

/**
 * An admission plugin whose informers have not synced yet (a just-started API server): it waits up
 * to 10 s, then refuses with admission.NewForbidden (apiserver/pkg/admission/handler.go
 * WaitForReady; plugin/pkg/admission/namespace/lifecycle/admission.go).
 */
export const notYetReady = (r: ResourceRef) => failure(403, 'Forbidden', `${r.resource}${r.group ? `.${r.group}` : ''} "${r.name ?? ''}" is forbidden: not yet ready to handle request`, groupDetails(r));

export function invalid(kind: string, name: string, causes: { field: string; message: string; reason?: string }[]): StatusError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, {
    name,
    kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueRequired', message: c.message, field: c.field })),
  });
}

/** handlers/patch.go: a patched object that does not decode: NewInvalid with an empty kind and name, one cause on `patch`. */
export function invalidPatch(patch: string, why: string): StatusError {
  const message = `Invalid value: ${JSON.stringify(patch)}: ${why}`;
  return failure(422, 'Invalid', ` "" is invalid: patch: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
}

/**
 * A ValidatingAdmissionPolicy's denial (admission/plugin/policy/validating/dispatcher.go): the
 * message wrapped by admission.NewForbidden, the reason the validation gives (Invalid unless it
 * sets one, so 422, policy_decision.go reasonToCode), and the message again as a cause.
 */
export function policyDenied(r: ResourceRef, policy: string, binding: string, why: string): StatusError {
  const text = `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${why}`;
  return failure(422, 'Invalid', `${r.resource}${r.group ? `.${r.group}` : ''} "${r.name ?? ''}" is forbidden: ${text}`, { ...groupDetails(r), causes: [{ message: text }] });
}

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

/** handlers/patch.go: a patch whose Content-Type is none of the patch types (415). */
export const unsupportedPatchType = () =>
  failure(
    415,
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json',
  );

export const methodNotAllowed = () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export const internalError = (message: string) => failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const serviceUnavailable = (message: string) => failure(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 });

export const gone = (requested: number, oldest: number) => failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

/** The watch cache before it has synced (cacher.go with ResilientWatchCacheInitialization): Status body and Retry-After. */
export const initializing = (retryAfterSeconds: number) =>
  new StatusError(
    { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'storage is (re)initializing', reason: 'TooManyRequests', details: { retryAfterSeconds }, code: 429 },
    { headers: { 'Retry-After': String(retryAfterSeconds) } },
  );

/** Max-in-flight / priority-and-fairness rejection (filters/maxinflight.go tooManyRequests): plain text, Retry-After. */
export const tooManyRequests = (retryAfterSeconds: number) =>
  new StatusError(
    { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too many requests, please try again later.', reason: 'TooManyRequests', code: 429 },
    { headers: { 'Retry-After': String(retryAfterSeconds) }, plain: 'Too many requests, please try again later.\n' },
  );

export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');
