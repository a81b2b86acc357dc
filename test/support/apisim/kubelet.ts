import type { Behaviours } from './behaviour.ts';
import type { KObject, Store } from './store.ts';

type Spec = Record<string, unknown>;
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The kubelets of every simulated node: start bound pods after the node's start delay (or fail
 * their containers as the test asked), finish graceful deletions, enforce activeDeadlineSeconds.
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

  /** Applies `mutate` if the pod is still the same pod and not being deleted. */
  #update(pod: KObject, mutate: (p: KObject) => void): void {
    const cur = this.#store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp) return;
    this.#store.update('pods', pod.metadata.namespace, pod.metadata.name, mutate);
  }

  #start(pod: KObject, node: string): void {
    const b = this.#behaviours.of(node);
    const containers = ((pod.spec as Spec).containers as { name: string; image: string }[] | undefined) ?? [];
    const statuses = (state: Record<string, unknown>, ready = false) =>
      containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready, restartCount: 0, started: ready, state }));
    this.#update(pod, (p) => {
      p.status = {
        ...p.status,
        phase: 'Pending',
        hostIP: (p.status?.hostIP) || nodeIP(this.#store, node),
        startTime: stamp(),
        conditions: [...conditions(p, false)],
        containerStatuses: statuses({ waiting: { reason: 'ContainerCreating' } }),
      };
    });
    this.#later(b.startDelayMs, () => {
      const now = this.#behaviours.of(node);
      if (now.imagePullError) {
        const image = containers[0]?.image ?? '';
        this.#update(pod, (p) => {
          p.status = { ...p.status, containerStatuses: statuses({ waiting: { reason: 'ErrImagePull', message: now.imagePullError } }) };
        });
        this.#later(200, () =>
          this.#update(pod, (p) => {
            p.status = { ...p.status, containerStatuses: statuses({ waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } }) };
          }),
        );
        return;
      }
      if (now.createContainerError) {
        this.#update(pod, (p) => {
          p.status = { ...p.status, containerStatuses: statuses({ waiting: { reason: 'CreateContainerError', message: now.createContainerError } }) };
        });
        return;
      }
      this.#update(pod, (p) => {
        p.status = { ...p.status, phase: 'Running', podIP: (p.status?.podIP) || podIP(p), conditions: conditions(p, true), containerStatuses: statuses({ running: { startedAt: stamp() } }, true) };
      });
      const deadline = (pod.spec as Spec).activeDeadlineSeconds as number | undefined;
      if (deadline) {
        this.#later(deadline * 1000, () =>
          this.#update(pod, (p) => {
            p.status = { ...p.status, phase: 'Failed', reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline` };
          }),
        );
      }
    });
  }

  #finishDeletion(pod: KObject, node: string): void {
    const b = this.#behaviours.of(node);
    if (b.stuckTerminating) return;
    const grace = (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    this.#later(Math.min(grace, b.terminationDelayMs), () => {
      if (this.#behaviours.of(node).stuckTerminating) return;
      const cur = this.#store.get('pods', pod.metadata.namespace, pod.metadata.name);
      if (cur?.metadata.uid === pod.metadata.uid) this.#store.remove('pods', pod.metadata.namespace, pod.metadata.name);
    });
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
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
