// The simulated clusters of the notification matrix: what is broken when, in the cluster's own
// (virtual) time, and which agent pods exist. Pure data and pure functions; the agents
// (agents.ts) turn a cluster's state into the series real agents would export.

/**
 * Time compression: one wall-clock second is FACTOR seconds of the clusters' time (rules scaled by
 * 1/FACTOR). 15 in the suite; VIGIL_MATRIX_FACTOR=1 runs everything as shipped (about an hour).
 */
export const FACTOR = compression(process.env.VIGIL_MATRIX_FACTOR);

function compression(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 15;
  const f = Number(raw);
  // The shipped 30 s scrape divided by FACTOR must stay a whole number of milliseconds Prometheus accepts.
  if (!Number.isInteger(f) || f < 1 || f > 30) throw new Error(`VIGIL_MATRIX_FACTOR must be a whole number from 1 to 30, not ${JSON.stringify(raw)}`);
  return f;
}
/** Virtual seconds in `m` minutes. */
export const minutes = (m: number) => m * 60;

/** What is wrong in a cluster at one moment. Everything absent is healthy. */
export interface Faults {
  /** Nodes whose host is gone: nothing on them answers, their agents are not scraped. */
  nodesDown?: readonly string[];
  /** Nodes whose pod network is dead while their host network works: pod-address pings and scrapes of the agent fail. */
  podNetworkDown?: readonly string[];
  /** Node pairs between which the pod network (overlay) is broken, both ways; the host network works. */
  overlayBroken?: readonly (readonly [string, string])[];
  /** The nodes cut off from the rest by a partition; Prometheus and the control plane are on the other side. */
  cutOff?: readonly string[];
  /** Nodes whose Service routing is broken (kube-proxy): Service IPs, the API server's and cluster DNS's, time out from their pods; pod and host addresses still answer. */
  servicesBroken?: readonly string[];
  /** Seconds each node's clock is off (negative: behind). */
  clockOffset?: Readonly<Record<string, number>>;
  /** Used ratio of the root filesystem per node (healthy nodes: 0.42). */
  filesystemUsed?: Readonly<Record<string, number>>;
  /** The API server's health checks fail, on the given nodes' agents or everywhere. */
  apiserver?: { reason: 'livez-failed' | 'readyz-failed' | 'api-error'; nodes?: readonly string[] };
  /** Leases cannot be read: the control-plane probe fails with api-error and exports no ages. */
  leasesUnreadable?: boolean;
  /** Virtual time each component's leader lease was last renewed (default: renewed every 2 s). */
  leaseRenewedAt?: Readonly<Record<string, number>>;
  /** Pod-scheduling runs fail everywhere with this reason (the API's own failures come from `apiserver`/reachability). */
  podScheduling?: { reason: 'unschedulable' | 'api-error' | 'timeout' };
  etcd?: {
    /** Members (named as their nodes) that do not answer at all. */
    down?: readonly string[];
    /** Members that answer their status request but know no leader. */
    noLeader?: readonly string[];
    /** Put latency per member, seconds (default a few ms). */
    putSeconds?: Readonly<Record<string, number>>;
    /** Members whose puts hang until the request timeout (2 s: a quarter of the probe's 8 s). */
    putHangs?: readonly string[];
  };
}

/** One pod of the agent DaemonSet on a node. Times are virtual seconds. */
export interface PodPlan {
  name: string;
  /** The pod's address as Prometheus scrapes it (the instance label). */
  instance: string;
  /** In service discovery (and running) from `from` until `to`. */
  from: number;
  to?: number;
  /** Intervals within its life when its process is not running (container restarts): scrapes and pings refused; counters restart after each. */
  down?: readonly (readonly [number, number])[];
}

export interface ClusterNode {
  name: string;
  controlPlane: boolean;
  index: number;
}

/** cp-1..cp-3 (control plane, each with an etcd member named after it) then w-1..w-(n-3). */
export function clusterNodes(n: number): ClusterNode[] {
  return Array.from({ length: n }, (_, i) => (i < 3 ? { name: `cp-${i + 1}`, controlPlane: true, index: i } : { name: `w-${i - 2}`, controlPlane: false, index: i }));
}

/** A stable pseudo-random suffix, as a DaemonSet gives its pods. */
export function podSuffix(seed: string): string {
  const letters = 'bcdfghjklmnpqrstvwxz2456789';
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += letters[h % letters.length];
    h = (Math.floor(h / letters.length) + Math.imul(h, 31 + i)) >>> 0;
  }
  return out;
}

/** The main agent's pod on a node for the whole run, unless a scenario plans others. */
export function defaultPod(cluster: string, node: ClusterNode, generation = 1): Omit<PodPlan, 'from'> {
  return { name: `vigil-${podSuffix(`${cluster}/${node.name}/${generation}`)}`, instance: `10.244.${node.index}.${10 + generation}:10924` };
}

/** A deterministic random source (mulberry32), so a run's jitter is the same every time. */
export function seeded(seed: string): () => number {
  let a = 0;
  for (const c of seed) a = Math.imul(a ^ c.charCodeAt(0), 2654435761) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The faults of a cluster at virtual time v, given as a function of time. */
export type Script = (v: number) => Faults;

/** `faults` while from <= v < to. */
export function during(from: number, to: number, faults: Faults | ((v: number) => Faults)): Script {
  return (v) => (v >= from && v < to ? (typeof faults === 'function' ? faults(v) : faults) : {});
}

/** Whether pings from one node to another get through on a network, or how they fail. */
export type PingResult = 'ok' | 'timeout' | 'refused';

/** How a ping from `from` to `to` over `network` ends, the peer's agent running or not. */
export function ping(f: Faults, from: string, to: string, network: 'pod' | 'host', agentRunning: boolean): PingResult {
  if (f.nodesDown?.includes(to) || f.nodesDown?.includes(from)) return 'timeout';
  if (f.cutOff && f.cutOff.includes(from) !== f.cutOff.includes(to)) return 'timeout';
  if (network === 'pod') {
    if (f.podNetworkDown?.includes(to) || f.podNetworkDown?.includes(from)) return 'timeout';
    if (f.overlayBroken?.some(([a, b]) => (a === from && b === to) || (a === to && b === from))) return 'timeout';
  }
  return agentRunning ? 'ok' : 'refused';
}

/** Whether a node's main agent (on the pod network) reaches the API server and cluster DNS (both by their Service IPs). */
export function reachesControlPlane(f: Faults, node: string): boolean {
  return !f.nodesDown?.includes(node) && !f.cutOff?.includes(node) && !f.podNetworkDown?.includes(node) && !f.servicesBroken?.includes(node);
}

/** Whether Prometheus (on the control plane's side, scraping pod addresses) reaches a node's main agent. */
export function scrapable(f: Faults, node: string, hostNetwork: boolean): boolean {
  if (f.nodesDown?.includes(node) || f.cutOff?.includes(node)) return false;
  return hostNetwork || !f.podNetworkDown?.includes(node);
}
