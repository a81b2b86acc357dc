import { admitPod, admitPodMutating, defaultAdmission, type AdmissionSettings } from './admission.ts';
import { badRequest, invalidPatch, methodNotAllowed, type StatusError } from './errors.ts';
import { prepareEvent } from './events.ts';
import { mergePatch, patchTypeOf, strategicMergePatch } from './patch.ts';
import { deletePod, preparePod, type DeleteOptions } from './pods.ts';
import { matches, parseFieldSelector, parseLabelSelector, SelectorError, type Filter } from './selectors.ts';
import { RESOURCES, clone, type KObject, type Resource, type Store } from './store.ts';
import type { WatchEvent, WatchHub } from './watch-hub.ts';

export interface ResourcePath {
  resource: Resource;
  namespace?: string;
  name?: string;
  /** Only `status`, and only on nodes: `/api/v1/nodes/<name>/status`. */
  subresource?: 'status';
}

/** Maps a URL path onto a resource, the way the API server's routes do; undefined: not a resource path. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts[1] === 'coordination.k8s.io' && parts[2] === 'v1') rest = parts.slice(3);
  else return undefined;
  const group = parts[0] === 'api' ? '' : 'coordination.k8s.io';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const resource = rest[0] as Resource | undefined;
  if (!resource || !(resource in RESOURCES) || RESOURCES[resource].group !== group || rest.length > 3) return undefined;
  if (rest.length === 3 && !(resource === 'nodes' && rest[2] === 'status')) return undefined;
  if (namespace !== undefined && !RESOURCES[resource].namespaced) return undefined;
  const name = rest[1] !== undefined ? decodeURIComponent(rest[1]) : undefined;
  if (name !== undefined && RESOURCES[resource].namespaced && namespace === undefined) return undefined;
  return { resource, namespace, name, ...(rest.length === 3 ? { subresource: 'status' as const } : {}) };
}

/** The RBAC verb of a request. */
export function verbOf(method: string, path: ResourcePath, query: URLSearchParams): string {
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
      return path.name ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return path.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export type Reply = { code: number; body: unknown } | { watch: Omit<Parameters<WatchHub['open']>[0], 'send' | 'end'> };

function filterOf(path: ResourcePath, query: URLSearchParams): Filter {
  try {
    return { namespace: path.namespace, labels: parseLabelSelector(query.get('labelSelector') ?? undefined), fields: parseFieldSelector(query.get('fieldSelector') ?? undefined, path.resource) };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

function resourceVersionParam(query: URLSearchParams): number | undefined {
  const v = query.get('resourceVersion');
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`resourceVersion: Invalid value: "${v}": must be a non-negative integer`);
  return Number(v);
}

export interface RequestExtras {
  /** What pod creates must pass. */
  admission?: AdmissionSettings;
  /** The request's Content-Type: it picks a patch's type. */
  contentType?: string;
}

/** Serves one resource request; throws StatusError for failures. */
export function handleResource(store: Store, verb: string, path: ResourcePath, query: URLSearchParams, body: unknown, extras: RequestExtras = {}): Reply {
  const { resource, namespace, name, subresource } = path;
  const admission = extras.admission ?? defaultAdmission();
  const def = RESOURCES[resource];
  // The status subresource serves get, update and patch only (registry/core/node/storage: StatusREST).
  if (subresource && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
  switch (verb) {
    case 'get':
      return { code: 200, body: store.mustGet(resource, namespace, name!) };
    case 'list': {
      const filter = filterOf(path, query);
      let items = store.list(resource).filter((o) => matches(filter, resource, o));
      const metadata: Record<string, unknown> = { resourceVersion: String(store.resourceVersion) };
      // Paging: the continue token carries the last key returned (the real one also pins the version).
      const token = query.get('continue');
      if (token) {
        const after = Buffer.from(token, 'base64url').toString('utf8');
        if (!after.includes('/')) throw badRequest('continue key is not valid: the continue token is malformed');
        items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
      }
      const limit = Number(query.get('limit') ?? 0);
      if (limit > 0 && items.length > limit) {
        const last = items[limit - 1]!;
        metadata.continue = Buffer.from(`${last.metadata.namespace ?? ''}/${last.metadata.name}`).toString('base64url');
        metadata.remainingItemCount = items.length - limit;
        items = items.slice(0, limit);
      }
      return { code: 200, body: { kind: `${def.kind}List`, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata, items } };
    }
    case 'watch':
      return { watch: { resource, filter: filterOf(path, query), resourceVersion: resourceVersionParam(query), bookmarks: query.get('allowWatchBookmarks') === 'true' } };
    case 'create': {
      if (!namespace && def.namespaced) throw methodNotAllowed();
      const obj = body as KObject;
      if (resource === 'pods') {
        // handlers/create.go: mutating admission, then validation, then validating admission.
        admitPodMutating(admission, namespace!, obj);
        const pod = preparePod(obj, namespace!);
        admitPod(
          admission,
          pod,
          store.list('pods').filter((p) => p.metadata.namespace === namespace),
        );
        return { code: 201, body: store.create('pods', pod) };
      }
      if (resource === 'events') return { code: 201, body: store.create('events', prepareEvent(obj, namespace!)) };
      if (!obj?.metadata?.name) throw badRequest(`${def.kind} name is required`);
      return { code: 201, body: store.create(resource, { ...obj, metadata: { ...obj.metadata, namespace } }) };
    }
    case 'update': {
      const obj = body as KObject;
      if (!obj?.metadata || obj.metadata.name !== name) throw badRequest('the name of the object does not match the name on the URL');
      return {
        code: 200,
        body: store.update(
          resource,
          namespace,
          name,
          (cur) => {
            cur.metadata.labels = obj.metadata.labels;
            cur.metadata.annotations = obj.metadata.annotations;
            cur.spec = clone(obj.spec);
            if (obj.status) cur.status = clone(obj.status);
          },
          obj.metadata.resourceVersion || undefined,
        ),
      };
    }
    case 'patch': {
      const type = patchTypeOf(extras.contentType);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
      const apply = (cur: KObject) => (type === 'strategic' ? strategicMergePatch(resource, cur, body) : mergePatch(cur, body)) as KObject;
      return {
        code: 200,
        body: store.update(resource, namespace, name!, (cur) => {
          const next = apply(cur);
          decodePatched(resource, next, body);
          // registry/core/node/strategy.go: a write to nodes/status keeps the spec (nodeStatusStrategy),
          // a write to the node keeps the status (nodeStrategy.PrepareForUpdate).
          if (resource === 'nodes') {
            if (subresource === 'status') next.spec = cur.spec;
            else next.status = cur.status;
          }
          for (const k of Object.keys(cur)) delete (cur as unknown as Record<string, unknown>)[k];
          Object.assign(cur, next);
        }),
      };
    }
    case 'delete': {
      const opts = deleteOptions(body, query);
      if (resource === 'pods') return { code: 200, body: deletePod(store, namespace!, name!, opts) };
      store.remove(resource, namespace, name!);
      return { code: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: def.group, kind: resource } } };
    }
    default:
      throw methodNotAllowed();
  }
}

/** Go's time.RFC3339 layout, as metav1.Time parses it (fractional seconds allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** A value as Go's `%+v` prints a decoded JSON map: `map[k:v ...]` with sorted keys, `[a b]`, `<nil>`. */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goValue(o[k])}`)
      .join(' ')}]`;
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The patched object decoded into its Go type (handlers/patch.go: FromUnstructuredWithValidation).
 * A node condition's times are metav1.Time: null or absent is the zero time, anything else must
 * parse as RFC 3339 (metav1.Time UnmarshalJSON), or the patch is a 422 naming the whole patch.
 */
function decodePatched(resource: string, obj: KObject, patch: unknown): void {
  if (resource !== 'nodes') return;
  for (const c of (obj.status?.conditions as Record<string, unknown>[] | undefined) ?? []) {
    for (const field of ['lastHeartbeatTime', 'lastTransitionTime']) {
      const t = c[field];
      if (t === null || t === undefined) continue;
      const why =
        typeof t !== 'string'
          ? `json: cannot unmarshal ${typeof t === 'number' ? 'number' : typeof t === 'boolean' ? 'bool' : Array.isArray(t) ? 'array' : 'object'} into Go value of type string`
          : RFC3339.test(t)
            ? undefined
            : `parsing time ${JSON.stringify(t)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(t)} as "2006"`;
      if (why) throw invalidPatch(goValue(patch), why);
    }
  }
}

/**
 * DeleteOptions as handlers/delete.go reads them: from the body when there is one, and only
 * then from the query: `?gracePeriodSeconds=1` next to a body is ignored.
 */
export function deleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  if (body !== undefined) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
    const o = body as Record<string, unknown>;
    if (o.kind !== undefined && o.kind !== 'DeleteOptions') throw badRequest(`decoded object cannot be converted to DeleteOptions`);
    const g = o.gracePeriodSeconds;
    if (g !== undefined && g !== null && !Number.isInteger(g)) throw badRequest(`json: cannot unmarshal ${typeof g} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`);
    return { ...(typeof g === 'number' ? { gracePeriodSeconds: g } : {}), ...(o.preconditions ? { preconditions: o.preconditions } : {}) };
  }
  const g = query.get('gracePeriodSeconds');
  if (g === null) return {};
  if (!/^-?\d+$/.test(g)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(g)}: invalid syntax`);
  return { gracePeriodSeconds: Number(g) };
}

export type { StatusError, WatchEvent };
