import type { Behaviours } from './behaviour.ts';
import type { KObject, Store } from './store.ts';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
interface Taint {
  key: string;
  value?: string;
  effect: string;
}

type Spec = Record<string, unknown>;

/** The node names a pod's required node affinity or nodeSelector allows; undefined: any node. */
export function allowedNodes(pod: KObject): string[] | undefined {
  const spec = pod.spec as Spec;
  const terms = (((spec.affinity as Spec | undefined)?.nodeAffinity as Spec | undefined)?.requiredDuringSchedulingIgnoredDuringExecution as Spec | undefined)?.nodeSelectorTerms as
    { matchFields?: Req[]; matchExpressions?: Req[] }[] | undefined;
  let names: string[] | undefined;
  for (const t of terms ?? []) {
    for (const r of [...(t.matchFields ?? []).filter((r) => r.key === 'metadata.name'), ...(t.matchExpressions ?? []).filter((r) => r.key === 'kubernetes.io/hostname')]) {
      if (r.operator === 'In') names = [...(names ?? []), ...(r.values ?? [])];
    }
  }
  const sel = (spec.nodeSelector as Record<string, string> | undefined)?.['kubernetes.io/hostname'];
  if (sel) names = names ? names.filter((n) => n === sel) : [sel];
  return names;
}
interface Req {
  key: string;
  operator: string;
  values?: string[];
}

const tolerates = (tols: Toleration[], t: Taint) => tols.some((x) => (!x.effect || x.effect === t.effect) && (x.operator === 'Exists' ? !x.key || x.key === t.key : x.key === t.key && (x.value ?? '') === (t.value ?? '')));

/**
 * The node names NodeAffinity's PreFilter narrows the pod to: those of `metadata.name` matchFields
 * terms (plugins/nodeaffinity/node_affinity.go PreFilter); undefined: it does not narrow.
 */
function preFilteredNodes(pod: KObject): string[] | undefined {
  const terms = ((((pod.spec as Spec).affinity as Spec | undefined)?.nodeAffinity as Spec | undefined)?.requiredDuringSchedulingIgnoredDuringExecution as Spec | undefined)?.nodeSelectorTerms as { matchFields?: Req[] }[] | undefined;
  const names = (terms ?? []).flatMap((t) => (t.matchFields ?? []).filter((r) => r.key === 'metadata.name' && r.operator === 'In').flatMap((r) => r.values ?? []));
  return names.length > 0 ? names : undefined;
}

/**
 * Why a node cannot take the pod, in the scheduler's words; undefined: it fits. Nodes PreFilter
 * left out never reach the filters: "didn't satisfy plugin(s) [NodeAffinity]" (schedule_one.go
 * findNodesThatFitPod, SetAbsentNodesStatus); a node the label selector rules out fails the
 * NodeAffinity filter: "didn't match Pod's node affinity/selector".
 */
function misfit(pod: KObject, node: KObject, allowed: string[] | undefined): string | undefined {
  const narrowed = preFilteredNodes(pod);
  if (narrowed && !narrowed.includes(node.metadata.name)) return "node(s) didn't satisfy plugin(s) [NodeAffinity]";
  if (allowed && !allowed.includes(node.metadata.name)) return "node(s) didn't match Pod's node affinity/selector";
  const tols = ((pod.spec as Spec).tolerations as Toleration[] | undefined) ?? [];
  const taints: Taint[] = [...((node.spec?.taints as Taint[] | undefined) ?? [])];
  if (node.spec?.unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  const blocking = taints.filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tols, t));
  if (blocking.length === 0) return undefined;
  const t = blocking[0]!;
  if (t.key === 'node.kubernetes.io/unschedulable') return 'node(s) were unschedulable';
  return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
}

/** The FailedScheduling message: "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match ...". */
export function unschedulableMessage(reasons: string[], total: number): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  // kube-scheduler sorts the "<count> <reason>" strings themselves.
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
}

/**
 * Binds pending pods to a node after the node's scheduling delay, or marks them Unschedulable
 * with the scheduler's message; unschedulable pods are retried when nodes or behaviours change.
 */
export class SchedulerSim {
  readonly #store: Store;
  readonly #behaviours: Behaviours;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(store: Store, behaviours: Behaviours) {
    this.#store = store;
    this.#behaviours = behaviours;
    store.onEvent((e) => {
      if (e.resource === 'pods' && e.type === 'ADDED' && !(e.object.spec as Spec).nodeName) this.#queue(e.object, undefined);
      if (e.resource === 'nodes') this.#retryUnschedulable();
    });
    behaviours.onChange(() => this.#retryUnschedulable());
  }

  #queue(pod: KObject, delayMs: number | undefined): void {
    const uid = pod.metadata.uid;
    if (this.#timers.has(uid)) return;
    const target = allowedNodes(pod)?.[0];
    const delay = delayMs ?? (target ? this.#behaviours.of(target).schedulingDelayMs : this.#behaviours.of('').schedulingDelayMs);
    const timer = setTimeout(() => {
      this.#timers.delete(uid);
      this.#schedule(pod.metadata.namespace, pod.metadata.name, uid);
    }, delay);
    timer.unref();
    this.#timers.set(uid, timer);
  }

  #retryUnschedulable(): void {
    for (const pod of this.#store.list('pods')) {
      if (!(pod.spec as Spec).nodeName && !pod.metadata.deletionTimestamp) this.#queue(pod, 0);
    }
  }

  #schedule(namespace: string | undefined, name: string, uid: string): void {
    const pod = this.#store.get('pods', namespace, name);
    if (!pod || pod.metadata.uid !== uid || (pod.spec as Spec).nodeName || pod.metadata.deletionTimestamp) return;
    const nodes = this.#store.list('nodes');
    const allowed = allowedNodes(pod);
    const reasons: string[] = [];
    let chosen: string | undefined;
    for (const node of nodes) {
      const why = misfit(pod, node, allowed) ?? this.#behaviours.of(node.metadata.name).unschedulable;
      if (why === undefined) {
        chosen = node.metadata.name;
        break;
      }
      reasons.push(why);
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (chosen) {
      this.#store.update('pods', namespace, name, (p) => {
        (p.spec as Spec).nodeName = chosen;
        p.status = { ...p.status, conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }] };
      });
      return;
    }
    const message = unschedulableMessage(reasons, nodes.length);
    const cond = ((pod.status?.conditions as Spec[] | undefined) ?? []).find((c) => c.type === 'PodScheduled');
    if (cond?.message === message) return;
    this.#store.update('pods', namespace, name, (p) => {
      p.status = { ...p.status, phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now }] };
    });
  }

  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
