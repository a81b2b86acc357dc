/** How the simulated scheduler and kubelets treat pods, per node; tests change it at will. */
export interface NodeBehaviour {
  /** Pod creation → bound to the node. */
  schedulingDelayMs: number;
  /** Bound → containers running (or the container failure below). */
  startDelayMs: number;
  /** Graceful deletion request → the kubelet has stopped the pod and it is gone. */
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
  /** The runtime's create error: the container waits in CreateContainerError. */
  createContainerError?: string;
  /** The kubelet never confirms deletions: pods stay Terminating. */
  stuckTerminating?: boolean;
}

export const defaultBehaviour = (): NodeBehaviour => ({ schedulingDelayMs: 0, startDelayMs: 0, terminationDelayMs: 0 });

export class Behaviours {
  #defaults: NodeBehaviour = defaultBehaviour();
  readonly #perNode = new Map<string, Partial<NodeBehaviour>>();
  readonly #listeners = new Set<() => void>();

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
    this.#defaults = defaultBehaviour();
    this.#perNode.clear();
    for (const fn of this.#listeners) fn();
  }

  onChange(fn: () => void): void {
    this.#listeners.add(fn);
  }
}
