/** The reasons an API failure maps to: the probes declare these among their own. */
export type ApiFailureReason = 'forbidden' | 'not-found' | 'api-error';

export interface ApiFailure {
  reason: ApiFailureReason;
  /** HTTP status, when the server answered. */
  code?: number;
  message: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

function statusOf(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return statusOf(JSON.parse(body));
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300) } : undefined;
    }
  }
  return body !== null && typeof body === 'object' ? body : undefined;
}

/** OpenSSL's verdicts on a certificate the client does not trust (Node's `err.code`). */
const TLS_TRUST = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * An admission plugin of a just-started API server whose caches have not synced
 * (apiserver/pkg/admission/handler.go WaitForReady gives up after 10 s): a 403 that says nothing
 * about vigil's permissions or its pod, and goes away by itself.
 */
const NOT_READY = /is forbidden: not yet ready to handle request$/;

const FORBIDDEN = /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)"| at the cluster scope)?/;

/**
 * The missing permission, from the authorizer's message
 * ('pods is forbidden: User "x" cannot create resource "pods" in API group "" in the namespace "vigil"').
 */
export function missingPermission(message: string): { user: string; verb: string; resource: string; group: string; namespace?: string } | undefined {
  const m = FORBIDDEN.exec(message);
  if (!m) return undefined;
  return { user: m[1]!, verb: m[2]!, resource: m[3]!, group: m[4] ?? '', ...(m[5] ? { namespace: m[5] } : {}) };
}

export interface Permission {
  verb: string;
  resource: string;
  group: string;
  namespace?: string;
}

/**
 * Turns what a client call threw into a reason and a sentence a person can act on.
 * `action` names what was attempted: "create probe pod vigil/vigil-probe-a". `permission` is what
 * the call needs, for a 403 that comes without a Status body (the watch client drops it).
 */
export function describeApiError(err: unknown, action: string, permission?: Permission): ApiFailure {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: string; cause?: { code?: string } };
  const httpCode = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (httpCode !== undefined && httpCode >= 100 && httpCode < 600) {
    const status = statusOf(e.body);
    const text = status?.message ?? '';
    if (httpCode === 403 && NOT_READY.test(text)) {
      return { reason: 'api-error', code: 403, message: `${action}: the API server is still starting (its admission has not synced yet): ${text}` };
    }
    if (httpCode === 403) {
      const p = missingPermission(text) ?? (permission ? { user: "vigil's service account", ...permission } : undefined);
      if (p) {
        const where = p.namespace ? `in namespace "${p.namespace}"` : 'cluster-wide';
        const resource = p.group ? `${p.resource}.${p.group}` : p.resource;
        return { reason: 'forbidden', code: 403, message: `${action}: forbidden: ${p.user} may not ${p.verb} ${resource} ${where}; grant verb "${p.verb}" on resource "${p.resource}" (API group "${p.group}") ${where} in vigil's RBAC` };
      }
      return { reason: 'forbidden', code: 403, message: `${action}: forbidden: ${text || 'no reason given'}` };
    }
    if (httpCode === 401) return { reason: 'forbidden', code: 401, message: `${action}: the API server rejected vigil's credentials (401 Unauthorized): check the service account token or kubeconfig` };
    if (httpCode === 404) return { reason: 'not-found', code: 404, message: `${action}: ${text || 'not found (404)'}` };
    return { reason: 'api-error', code: httpCode, message: `${action}: API server answered ${httpCode}${status?.reason ? ` ${status.reason}` : ''}${text ? `: ${text}` : ''}` };
  }
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  if (code && TLS_TRUST.has(code)) {
    // Node's own hint (--use-system-ca) is not the cure here: the cluster's CA is
    const detail = (e?.message ?? '').replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/, '').replace(/^request to \S+ failed, reason: /, '');
    return {
      reason: 'api-error',
      message: `${action}: the API server's certificate is not trusted (${code}${detail ? `: ${detail}` : ''}): check the cluster CA vigil is given (the service account's ca.crt, or the kubeconfig's certificate-authority)`,
    };
  }
  const why = code ? `${code}${e?.message && !e.message.includes(code) ? ` (${e.message})` : e?.message ? `: ${e.message}` : ''}` : (e?.message ?? String(err));
  return { reason: 'api-error', message: `${action}: cannot reach the API server: ${why}` };
}

/**
 * The server's message when a write was refused by admission or validation rather than by RBAC:
 * a 403 whose Status lacks the authorizer's "cannot <verb> resource" phrase (PodSecurity,
 * PriorityClass, ResourceQuota, a webhook), a 422 Invalid, or a 404 for the namespace
 * (NamespaceLifecycle). Undefined for anything else, a starting server's "not yet ready" 403 among them.
 */
export function admissionDenial(err: unknown): string | undefined {
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e?.code !== 'number') return undefined;
  const text = statusOf(e.body)?.message;
  if (!text) return undefined;
  if (e.code === 403 && !missingPermission(text) && !NOT_READY.test(text)) return text;
  if (e.code === 422) return text;
  if (e.code === 404 && /^namespaces "[^"]*" not found$/.test(text)) return text;
  return undefined;
}
