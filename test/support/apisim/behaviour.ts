/** How the simulated scheduler and kubelets treat pods, per node; tests change it at will. */
export interface NodeBehaviour {
  /** Pod creation → bound to the node. */
  schedulingDelayMs: number;
  /** Bound → containers running (or the container failure below). */
  startDelayMs: number;
  /**
   * Graceful deletion request → the kubelet has stopped the pod and it is gone: the containers'
   * terminal status is written halfway, the kubelet's own grace-0 delete at the end.
   */
  terminationDelayMs: number;
  /** The scheduler's message for pods that target this node; they stay Pending. */
  unschedulable?: string;
  /** The runtime's pull error: the container waits in ErrImagePull, then ImagePullBackOff, and the kubelet pulls again after the back-off. */
  imagePullError?: string;
  /** Pulls that fail before one succeeds (a transient registry error); absent: every pull fails. */
  imagePullFailures?: number;
  /** The first pull back-off; it doubles per failure, as the kubelet's (10 s, up to 5 min, in a real one). */
  imagePullBackOffMs?: number;
  /** The kubelet refuses the pod at admission with this reason (OutOfcpu, OutOfmemory, OutOfpods, NodeAffinity...): phase Failed. */
  kubeletReject?: string;
  /** The runtime's create error: the container waits in CreateContainerError, and the kubelet creates it again after its sync back-off. */
  createContainerError?: string;
  /** Creates that fail before one succeeds (a runtime that recovers); absent: every create fails while `createContainerError` is set. */
  createContainerFailures?: number;
  /** The kubelet's wait before it tries a failed create again (a real one's pod worker waits 10–15 s). */
  createContainerRetryMs?: number;
  /** The image pull is still under way (a slow registry): containers wait in ContainerCreating until it is cleared. */
  pullInProgress?: boolean;
  /** The kubelet never confirms deletions: pods stay Terminating. */
  stuckTerminating?: boolean;
}

/**
 * How long a real kubelet takes to confirm a graceful deletion of a pod whose containers stop at
 * once on SIGTERM: the pod worker kills the containers, PLEG's relist (every 1 s) sees them stopped
 * and the status manager writes the terminal status; it deletes the pod (grace 0) only once
 * canBeDeleted → PodResourcesAreReclaimed finds the volumes and the pod cgroup gone, which the
 * housekeeping loop (every 2 s) cleans up (pkg/kubelet/kubelet.go plegRelistPeriod,
 * housekeepingPeriod; kubelet_pods.go PodResourcesAreReclaimed; status/status_manager.go).
 */
export const KUBELET_DELETION_CONFIRM_MS = 2000;

export const defaultBehaviour = (): NodeBehaviour => ({ schedulingDelayMs: 0, startDelayMs: 0, terminationDelayMs: KUBELET_DELETION_CONFIRM_MS });

export class Behaviours {
  /** What every node does unless told otherwise, and what reset() returns to. */
  readonly #base: NodeBehaviour;
  #defaults: NodeBehaviour;
  readonly #perNode = new Map<string, Partial<NodeBehaviour>>();
  readonly #listeners = new Set<() => void>();

  constructor(base: Partial<NodeBehaviour> = {}) {
    this.#base = { ...defaultBehaviour(), ...base };
    this.#defaults = { ...this.#base };
  }

  /** Sets the behaviour of every node (`node` absent) or of one node. */
  set(patch: Partial<NodeBehaviour>, node?: string): void {
    if (node === undefined) this.#defaults = { ...this.#defaults, ...patch };
    else this.#perNode.set(node, { ...this.#perNode.get(node), ...patch });
    for (const fn of this.#listeners) fn();
  }

  of(node: string): NodeBehaviour {
    return { ...this.#defaults, ...this.#perNode.get(node) };
  }

  reset(): void {
    this.#defaults = { ...this.#base };
    this.#perNode.clear();
    for (const fn of this.#listeners) fn();
  }

  onChange(fn: () => void): void {
    this.#listeners.add(fn);
  }
}
