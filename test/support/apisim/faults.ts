import { forbidden, internalError, policyDenied, rbacResource, serviceUnavailable, tooManyRequests, type ResourceRef, type StatusError } from './errors.ts';

export interface Denial {
  /** get, list, watch, create, update, patch, delete, or "*". */
  verb: string;
  /** As RBAC names it: `pods`, `nodes/status`. */
  resource: string;
  /** Only in this namespace; absent: everywhere. */
  namespace?: string;
}

/** A ValidatingAdmissionPolicy (with its binding) that refuses the matching writes. */
export interface PolicyDenial {
  policy: string;
  binding: string;
  /** create, update, patch or delete. */
  verb: string;
  /** As RBAC names it: `pods`, `nodes/status`. */
  resource: string;
  /** The validation's message. */
  message: string;
  /** Refuse this many requests, then none; absent: every one. */
  count?: number;
}

/** One PolicyRule of a Role (namespace set) or ClusterRole (namespace absent), as granted to the token's user. */
export interface RbacRule {
  namespace?: string;
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ApiFaultSettings {
  /** Added before every API request is handled (health endpoints included). */
  latencyMs: number;
  /** The next `count` requests fail with `code`: 500, 503, or 429 (the API server's flow control, with Retry-After: 1). */
  errorBurst: { count: number; code: number };
  /** RBAC denials: the matching requests get 403 with the authorizer's message. */
  denials: Denial[];
  /** When set, the authorizer allows only what these rules grant (RBAC is deny by default). */
  rbac?: RbacRule[];
  /** Validating admission policies that refuse writes (422), after authorization. */
  policies?: PolicyDenial[];
}

export const defaultApiFaults = (): ApiFaultSettings => ({ latencyMs: 0, errorBurst: { count: 0, code: 500 }, denials: [] });

export interface RequestAttributes {
  verb: string;
  ref: ResourceRef;
  namespace?: string;
  user: string;
}

const has = (list: string[], v: string) => list.includes('*') || list.includes(v);

export function allowedBy(rules: readonly RbacRule[], a: RequestAttributes): boolean {
  return rules.some(
    (r) =>
      (r.namespace === undefined || r.namespace === a.namespace) &&
      has(r.apiGroups, a.ref.group) &&
      has(r.resources, rbacResource(a.ref)) &&
      has(r.verbs, a.verb) &&
      (!r.resourceNames?.length || (a.ref.name !== undefined && r.resourceNames.includes(a.ref.name))),
  );
}

/** Decides, per request, the faults a test asked for. */
export class ApiFaults {
  settings: ApiFaultSettings = defaultApiFaults();

  set(patch: Partial<ApiFaultSettings>): void {
    this.settings = { ...this.settings, ...patch };
    if ('rbac' in patch && patch.rbac === undefined) delete this.settings.rbac;
  }

  /** Takes one request out of the error burst, if any is left. */
  takeBurstError(): StatusError | undefined {
    const b = this.settings.errorBurst;
    if (b.count <= 0) return undefined;
    b.count--;
    if (b.code === 429) return tooManyRequests(1);
    return b.code === 503 ? serviceUnavailable('the server is currently unable to handle the request') : internalError('etcdserver: request timed out');
  }

  denial(a: RequestAttributes): StatusError | undefined {
    if (a.user === 'system:anonymous') return forbidden(a.ref, a.user, a.verb, a.namespace);
    if (this.settings.rbac && !allowedBy(this.settings.rbac, a)) return forbidden(a.ref, a.user, a.verb, a.namespace);
    const hit = this.settings.denials.some((d) => (d.verb === '*' || d.verb === a.verb) && d.resource === rbacResource(a.ref) && (d.namespace === undefined || d.namespace === a.namespace));
    return hit ? forbidden(a.ref, a.user, a.verb, a.namespace) : undefined;
  }

  /** Validating admission: the first policy that matches the write refuses it. */
  admission(a: RequestAttributes): StatusError | undefined {
    const p = this.settings.policies?.find((d) => d.verb === a.verb && d.resource === rbacResource(a.ref) && (d.count === undefined || d.count > 0));
    if (!p) return undefined;
    if (p.count !== undefined) p.count--;
    return policyDenied(a.ref, p.policy, p.binding, p.message);
  }
}
