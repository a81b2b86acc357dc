import { StatusError } from './errors.ts';
import type { KObject } from './store.ts';

type Spec = Record<string, unknown>;

/** A ResourceQuota as admission sees it: hard limits, and an optional PriorityClass scope. */
export interface Quota {
  name: string;
  namespace: string;
  /** "pods", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory". */
  hard: Record<string, string>;
  /** scopeSelector: PriorityClass In these names. */
  priorityClasses?: string[];
}

export interface AdmissionSettings {
  /** Namespaces that exist; a pod anywhere else is refused by NamespaceLifecycle (404). */
  namespaces: Record<string, { labels?: Record<string, string> }>;
  /** PriorityClasses that exist, besides the built-in system-node-critical and system-cluster-critical. */
  priorityClasses: string[];
  quotas: Quota[];
  /**
   * The ResourceQuota admission configuration's limitedResources for pods: priority classes only
   * allowed where a quota covers them (the documented way to keep critical priorities in kube-system).
   */
  limitedPriorityClasses: string[];
}

export const defaultAdmission = (): AdmissionSettings => ({
  namespaces: Object.fromEntries(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'vigil'].map((n) => [n, {}])),
  priorityClasses: [],
  quotas: [],
  limitedPriorityClasses: [],
});

const BUILTIN_PRIORITY = ['system-node-critical', 'system-cluster-critical'];

const forbidden = (name: string, message: string) =>
  new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `pods "${name}" is forbidden: ${message}`, reason: 'Forbidden', details: { name, kind: 'pods' }, code: 403 });

const namespaceNotFound = (ns: string) =>
  new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `namespaces "${ns}" not found`, reason: 'NotFound', details: { name: ns, kind: 'namespaces' }, code: 404 });

interface Container {
  name: string;
  securityContext?: Spec;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

const containersOf = (pod: KObject) => [...(((pod.spec as Spec).initContainers as Container[] | undefined) ?? []), ...(((pod.spec as Spec).containers as Container[] | undefined) ?? [])];

/** "container "a"" / "containers "a", "b"", as the PodSecurity messages name them. */
const named = (names: string[]) => `${names.length === 1 ? 'container' : 'containers'} ${names.map((n) => `"${n}"`).join(', ')}`;

/**
 * The `restricted` profile's checks for the fields a small pod sets (staging/src/k8s.io/pod-security-admission/policy/
 * check_*.go), in the order and wording the admission plugin reports them; empty: allowed.
 */
export function restrictedViolations(pod: KObject): string[] {
  const spec = pod.spec as Spec;
  const podSc = (spec.securityContext as Spec | undefined) ?? {};
  const cs = containersOf(pod);
  const out: string[] = [];
  for (const [flag, field] of [
    ['hostNetwork', 'hostNetwork'],
    ['hostPID', 'hostPID'],
    ['hostIPC', 'hostIPC'],
  ] as const) {
    if (spec[flag] === true) out.push(`host namespaces (${field}=true)`);
  }
  const privileged = cs.filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  if (privileged.length) out.push(`privileged (${named(privileged)} must not set securityContext.privileged=true)`);
  const escalation = cs.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (escalation.length) out.push(`allowPrivilegeEscalation != false (${named(escalation)} must set securityContext.allowPrivilegeEscalation=false)`);
  const caps = cs.filter((c) => {
    const k = c.securityContext?.capabilities as { drop?: string[]; add?: string[] } | undefined;
    return !k?.drop?.includes('ALL') || (k.add ?? []).some((a) => a !== 'NET_BIND_SERVICE');
  });
  if (caps.length) out.push(`unrestricted capabilities (${named(caps.map((c) => c.name))} must set securityContext.capabilities.drop=["ALL"])`);
  const nonRoot = cs.filter((c) => (c.securityContext?.runAsNonRoot ?? podSc.runAsNonRoot) !== true).map((c) => c.name);
  if (nonRoot.length) out.push(`runAsNonRoot != true (pod or ${named(nonRoot)} must set securityContext.runAsNonRoot=true)`);
  const root = cs.filter((c) => (c.securityContext?.runAsUser ?? podSc.runAsUser) === 0).map((c) => c.name);
  if (root.length) out.push(`runAsUser=0 (${named(root)} must not set runAsUser=0)`);
  const seccompOk = (p: unknown) => ['RuntimeDefault', 'Localhost'].includes((p as { type?: string } | undefined)?.type ?? '');
  const seccomp = cs.filter((c) => (c.securityContext?.seccompProfile === undefined ? !seccompOk(podSc.seccompProfile) : !seccompOk(c.securityContext.seccompProfile))).map((c) => c.name);
  if (seccomp.length) out.push(`seccompProfile (${seccompOk(podSc.seccompProfile) ? '' : 'pod or '}${named(seccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
  return out;
}

const cpuMilli = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);

/**
 * The mutating admission a pod create meets before validation (handlers/create.go): NamespaceLifecycle,
 * then Priority. Throws the StatusError the plugin returns.
 */
export function admitPodMutating(a: AdmissionSettings, namespace: string, body: { metadata?: { name?: string; generateName?: string }; spec?: Spec }): void {
  if (!a.namespaces[namespace]) throw namespaceNotFound(namespace);
  const pc = body.spec?.priorityClassName as string | undefined;
  // plugin/pkg/admission/priority/admission.go
  if (pc && !BUILTIN_PRIORITY.includes(pc) && !a.priorityClasses.includes(pc)) throw forbidden(body.metadata?.name ?? body.metadata?.generateName ?? '', `no PriorityClass with name ${pc} was found`);
}

/** The validating admission after validation: PodSecurity, then ResourceQuota. */
export function admitPod(a: AdmissionSettings, pod: KObject, podsInNamespace: KObject[]): void {
  const ns = pod.metadata.namespace!;
  const name = pod.metadata.name;
  const nsObj = a.namespaces[ns]!;
  const pc = (pod.spec as Spec).priorityClassName as string | undefined;
  // pod-security-admission: the namespace's enforce label.
  const level = nsObj.labels?.['pod-security.kubernetes.io/enforce'];
  if (level === 'restricted') {
    const v = restrictedViolations(pod);
    const version = nsObj.labels?.['pod-security.kubernetes.io/enforce-version'] ?? 'latest';
    if (v.length) throw forbidden(name, `violates PodSecurity "restricted:${version}": ${v.join(', ')}`);
  }
  // plugin/pkg/admission/resourcequota: limited resources, then each matching quota.
  const quotas = a.quotas.filter((q) => q.namespace === ns && (!q.priorityClasses || (pc !== undefined && q.priorityClasses.includes(pc))));
  if (pc && a.limitedPriorityClasses.includes(pc) && !quotas.some((q) => q.priorityClasses?.includes(pc))) {
    throw forbidden(name, `insufficient quota to match these scopes: [{PriorityClass In [${a.limitedPriorityClasses.join(' ')}]}]`);
  }
  for (const q of quotas) {
    const missing: string[] = [];
    for (const res of ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] as const) {
      if (!(res in q.hard)) continue;
      const [kind, unit] = res.split('.') as ['limits' | 'requests', string];
      const lacking = containersOf(pod).filter((c) => c.resources?.[kind]?.[unit] === undefined && !(kind === 'requests' && c.resources?.limits?.[unit] !== undefined));
      if (lacking.length) missing.push(`${res} for: ${lacking.map((c) => c.name).join(',')}`);
    }
    if (missing.length) throw forbidden(name, `failed quota: ${q.name}: must specify ${missing.join('; ')}`);
    if ('pods' in q.hard) {
      const used = podsInNamespace.filter((p) => !['Succeeded', 'Failed'].includes((p.status?.phase as string | undefined) ?? '')).length;
      if (used + 1 > Number(q.hard.pods)) throw forbidden(name, `exceeded quota: ${q.name}, requested: pods=1, used: pods=${used}, limited: pods=${q.hard.pods}`);
    }
    if ('limits.cpu' in q.hard) {
      const lim = (p: KObject) => containersOf(p).reduce((s, c) => s + cpuMilli(c.resources?.limits?.cpu ?? '0'), 0);
      const used = podsInNamespace.reduce((s, p) => s + lim(p), 0);
      if (used + lim(pod) > cpuMilli(q.hard['limits.cpu'])) throw forbidden(name, `exceeded quota: ${q.name}, requested: limits.cpu=${lim(pod)}m, used: limits.cpu=${used}m, limited: limits.cpu=${q.hard['limits.cpu']}`);
    }
  }
}
