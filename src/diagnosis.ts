/**
 * What the agent concludes from its probes' runs: the causes the cluster status names, and the
 * Node conditions an agent writes on its own Node. Probes produce both (their `correlate` and
 * `condition`), the status and the Node-condition writer consume them. A leaf module.
 */

/** The kinds vigil's own probes and the mesh name; a probe may name kinds of its own (any other string). */
export type CauseKind =
  | 'node-down'
  | 'agent-down'
  | 'overlay-broken'
  | 'host-network-broken'
  | 'partition'
  | 'probe-failing'
  | 'clock-offset'
  | 'node-unknown'
  /** One etcd member slow, down, without a leader or in alarm, however many agents see it. */
  | 'etcd-member'
  /** etcd as a whole: quorum lost or no leader. */
  | 'etcd-cluster'
  /** The API server fails from every agent that asked it. */
  | 'apiserver-down'
  /** The API server fails from some agents only: their path to it. */
  | 'apiserver-path'
  /** Cluster DNS fails from every agent. */
  | 'dns-down'
  /** DNS fails on some nodes only. */
  | 'dns-node'
  /** No probe pod gets scheduled on any node. */
  | 'scheduler'
  /** Probe pods fail to start on every node, after being scheduled. */
  | 'pod-startup-all'
  /** Probe pods fail on some nodes only: their kubelet or container runtime. */
  | 'pod-startup'
  /** The control plane's leases are stale from every agent. */
  | 'control-plane'
  | (string & {});

export interface Cause {
  kind: CauseKind;
  severity: 'warning' | 'critical';
  /** The nodes concerned: the node down, the two ends of a broken link (or the one node whose links are broken), or every node of a partition. */
  nodes: string[];
  /** For probe-failing: the failing probes. */
  probes?: string[];
  /** For partition: the groups of nodes that reach each other but not the rest. */
  sides?: string[][];
  /** A sentence a person can act on: "node c is down or isolated: unreachable from 4 of 4 observers on both networks". */
  message: string;
  /** For a shared component: the component ("etcd member etcd-b", "API server"). */
  component?: string;
  /** For a shared component: how many agents see the problem, of how many that looked. */
  seenBy?: { agents: string[]; of: number };
  /** The earliest time the evidence has held, from the agents' own transitions (RFC 3339); null when no agent recorded one. */
  since: string | null;
}

/** A Node condition the evidence supports now, in node-problem-detector's style: "True" while the problem is present. */
export interface DesiredCondition {
  /** "Vigil" and the problem in CamelCase, as node-problem-detector names its conditions. */
  type: string;
  status: 'True' | 'False';
  /** CamelCase, as Kubernetes condition reasons are. */
  reason: string;
  message: string;
  /** Since when the evidence has said so (ms), when it knows: the condition's lastTransitionTime then. */
  since?: number;
}
