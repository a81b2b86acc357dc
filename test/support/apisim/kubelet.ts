import type { Behaviours } from './behaviour.ts';
import { deletePod } from './pods.ts';
import type { KObject, Store } from './store.ts';

type Spec = Record<string, unknown>;
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The kubelets of every simulated node: start bound pods after the node's start delay (or keep
 * their containers waiting on pull or create errors, retried as a kubelet retries them, as the
 * test asked), finish graceful deletions, enforce activeDeadlineSeconds.
 */
export class KubeletSim {
  readonly #store: Store;
  readonly #behaviours: Behaviours;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Pod UIDs already picked up, so a later status update does not start them twice. */
  readonly #started = new Set<string>();
  readonly #terminating = new Set<string>();

  constructor(store: Store, behaviours: Behaviours) {
    this.#store = store;
    this.#behaviours = behaviours;
    store.onEvent((e) => {
      if (e.resource !== 'pods') return;
      const pod = e.object;
      const uid = pod.metadata.uid;
      if (e.type === 'DELETED') {
        this.#started.delete(uid);
        this.#terminating.delete(uid);
        return;
      }
      const node = (pod.spec as Spec).nodeName as string | undefined;
      if (!node) return;
      if (pod.metadata.deletionTimestamp) {
        if (!this.#terminating.has(uid)) {
          this.#terminating.add(uid);
          this.#finishDeletion(pod, node);
        }
        return;
      }
      if (!this.#started.has(uid)) {
        this.#started.add(uid);
        this.#start(pod, node);
      }
    });
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  /** The pod as stored, if it is still the same pod, not being deleted and not finished. */
  #live(pod: KObject): KObject | undefined {
    const cur = this.#store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp || ['Failed', 'Succeeded'].includes(cur.status?.phase as string)) return undefined;
    return cur;
  }

  /** Applies `mutate` if the pod is still the same pod, not being deleted and not finished. */
  #update(pod: KObject, mutate: (p: KObject) => void): boolean {
    if (!this.#live(pod)) return false;
    this.#store.update('pods', pod.metadata.namespace, pod.metadata.name, mutate);
    return true;
  }

  #start(pod: KObject, node: string): void {
    const b = this.#behaviours.of(node);
    const containers = ((pod.spec as Spec).containers as { name: string; image: string }[] | undefined) ?? [];
    const statuses = (state: Record<string, unknown>, ready = false) => containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready, restartCount: 0, started: ready, state }));
    if (b.kubeletReject) {
      // kubelet.go rejectPod: the pod fails at the kubelet's admission, its containers never created.
      this.#update(pod, (p) => {
        p.status = { ...p.status, phase: 'Failed', reason: b.kubeletReject, message: `Pod was rejected: ${rejectMessage(b.kubeletReject!)}`, startTime: stamp() };
      });
      return;
    }
    this.#update(pod, (p) => {
      p.status = {
        ...p.status,
        phase: 'Pending',
        hostIP: p.status?.hostIP || nodeIP(this.#store, node),
        startTime: stamp(),
        conditions: [...conditions(p, false)],
        containerStatuses: statuses({ waiting: { reason: 'ContainerCreating' } }),
      };
    });
    // activeDeadlineSeconds counts from status.startTime, ContainerCreating and pull back-offs
    // included (kubelet active_deadline.go); past it the kubelet kills the containers.
    const deadline = (pod.spec as Spec).activeDeadlineSeconds as number | undefined;
    if (deadline) this.#later(deadline * 1000, () => this.#deadlineExceeded(pod));
    const image = containers[0]?.image ?? '';
    let failedPulls = 0;
    const pull = () => {
      const now = this.#behaviours.of(node);
      if (now.pullInProgress) {
        this.#later(50, pull);
        return;
      }
      if (now.imagePullError && (now.imagePullFailures === undefined || failedPulls < now.imagePullFailures)) {
        failedPulls++;
        // ErrImagePull on the failed pull, ImagePullBackOff at the next sync, a new pull after the back-off.
        const live = this.#update(pod, (p) => {
          p.status = { ...p.status, containerStatuses: statuses({ waiting: { reason: 'ErrImagePull', message: now.imagePullError } }) };
        });
        if (!live) return; // deleted or finished: the kubelet stops pulling for it
        this.#later(200, () =>
          this.#update(pod, (p) => {
            p.status = { ...p.status, containerStatuses: statuses({ waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } }) };
          }),
        );
        this.#later((now.imagePullBackOffMs ?? 10_000) * 2 ** (failedPulls - 1), pull);
        return;
      }
      create();
    };
    // A container the runtime failed to create was never created, so the kubelet creates it again
    // whatever the restartPolicy (container/helpers.go ShouldContainerBeRestarted: no status, or
    // Created, means start it): the failed sync is requeued after the pod worker's back-off
    // (pod_workers.go: backOffPeriod, 10 s, jittered by up to half) and the container waits in
    // CreateContainerError until a create works.
    let failedCreates = 0;
    const create = () => {
      const now = this.#behaviours.of(node);
      if (now.createContainerError && (now.createContainerFailures === undefined || failedCreates < now.createContainerFailures)) {
        failedCreates++;
        const cur = this.#live(pod);
        if (!cur) return; // deleted or finished: the kubelet stops creating it
        // The status manager writes only a changed status (status_manager.go isPodStatusByKubeletEqual):
        // the same error again is no write and no watch event.
        const waiting = { reason: 'CreateContainerError', message: now.createContainerError };
        const was = (cur.status?.containerStatuses as { state?: { waiting?: unknown } }[] | undefined)?.[0]?.state?.waiting;
        if (JSON.stringify(was) !== JSON.stringify(waiting)) {
          this.#store.update('pods', cur.metadata.namespace, cur.metadata.name, (p) => {
            p.status = { ...p.status, containerStatuses: statuses({ waiting }) };
          });
        }
        this.#later(now.createContainerRetryMs ?? 10_000, create);
        return;
      }
      this.#update(pod, (p) => {
        p.status = { ...p.status, phase: 'Running', podIP: p.status?.podIP || podIP(p), conditions: conditions(p, true), containerStatuses: statuses({ running: { startedAt: stamp() } }, true) };
      });
    };
    this.#later(b.startDelayMs, pull);
  }

  #deadlineExceeded(pod: KObject): void {
    this.#update(pod, (p) => {
      p.status = { ...p.status, phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline', conditions: conditions(p, false), containerStatuses: terminated(p, 137) };
    });
  }

  /**
   * A graceful deletion as the kubelet carries it out: SIGTERM, the containers' terminal status
   * written once seen stopped (MODIFIED, halfway through the termination delay), then, the pod's
   * resources reclaimed, the kubelet's own delete with grace 0 (MODIFIED, DELETED).
   */
  #finishDeletion(pod: KObject, node: string): void {
    const { namespace, name } = pod.metadata;
    const same = () => {
      if (this.#behaviours.of(node).stuckTerminating) return undefined;
      const cur = this.#store.get('pods', namespace, name);
      return cur?.metadata.uid === pod.metadata.uid ? cur : undefined;
    };
    const b = this.#behaviours.of(node);
    if (b.stuckTerminating) return;
    const delay = b.terminationDelayMs;
    this.#later(delay / 2, () => {
      const cur = same();
      if (!cur) return;
      if (!['Failed', 'Succeeded'].includes(cur.status?.phase as string)) {
        this.#store.update('pods', namespace, name, (p) => {
          const cs = terminated(p, 0);
          p.status = { ...p.status, phase: cs.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed', conditions: conditions(p, false), containerStatuses: cs };
        });
      }
      this.#later(delay - delay / 2, () => {
        if (same()) deletePod(this.#store, namespace!, name, { gracePeriodSeconds: 0 });
      });
    });
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** What kubelet's admission says when a resource is short (lifecycle/predicate.go). */
function rejectMessage(reason: string): string {
  const res = /^OutOf(.+)$/.exec(reason)?.[1];
  return res ? `Node didn't have enough resource: ${res}, requested: 1000, used: 3950, capacity: 4000` : `the node refused the pod (${reason})`;
}

/**
 * Container statuses once the containers are stopped: running ones exit with `code` (0 after
 * SIGTERM for pause, 137 when killed); never-started ones are ContainerStatusUnknown.
 */
function terminated(p: KObject, code: number): { name: string; state: { terminated: Spec & { exitCode: number } } }[] {
  const now = stamp();
  return ((p.status?.containerStatuses as (Spec & { name: string; state: Spec })[] | undefined) ?? []).map((c) => {
    const started = (c.state.running as { startedAt?: string } | undefined)?.startedAt;
    const t = started
      ? { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt: now }
      : { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: null, finishedAt: null };
    return { ...c, ready: false, started: false, state: { terminated: t } };
  });
}

function conditions(p: KObject, ready: boolean): Spec[] {
  const t = stamp();
  const s = ready ? 'True' : 'False';
  const scheduled = ((p.status?.conditions as Spec[] | undefined) ?? []).find((c) => c.type === 'PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastTransitionTime: t };
  return [
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: t },
    { type: 'Ready', status: s, lastProbeTime: null, lastTransitionTime: t, ...(ready ? {} : { reason: 'ContainersNotReady' }) },
    { type: 'ContainersReady', status: s, lastProbeTime: null, lastTransitionTime: t, ...(ready ? {} : { reason: 'ContainersNotReady' }) },
    scheduled,
  ];
}

function nodeIP(store: Store, node: string): string {
  const addrs = (store.get('nodes', undefined, node)?.status?.addresses as { type: string; address: string }[] | undefined) ?? [];
  return addrs.find((a) => a.type === 'InternalIP')?.address ?? '';
}

/** A stable address from the documentation range, derived from the UID; nothing ever connects to it. */
function podIP(p: KObject): string {
  const n = parseInt(p.metadata.uid.slice(0, 4), 16);
  return `198.19.${(n >> 8) & 255}.${n & 255}`;
}
