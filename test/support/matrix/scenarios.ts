// The rows of the notification matrix: each a cluster of its own (its `id` is the `cluster`
// label), a healthy period, a scripted fault, the recovery, a settle period, and what must reach a
// person — the exact firing notifications per receiver (pager: critical, team: warning, tickets:
// info), named by the labels that say what is broken. Times are the cluster's own (virtual)
// seconds, compressed 15-fold on the wall clock along with the rules and Alertmanager's timings.
import type { Expect, Tolerated } from './judge.ts';
import { defaultPod, during, minutes, type ClusterNode, type PodPlan, type Script } from './world.ts';

export interface Scenario {
  /** The row's number in the matrix (as the brief numbers them). */
  row: string;
  /** The cluster label of its targets; also its name in VIGIL_MATRIX_ROWS. */
  id: string;
  title: string;
  /** Nodes in the cluster (cp-1..cp-3, then workers). */
  nodes: number;
  faultAt: number;
  recoverAt?: number;
  /** The scripted end, settle period included: notifications are judged after it. */
  end: number;
  faults: Script;
  /** The main agent's pods on a node; default one pod for the whole run. */
  pods?: (node: ClusterNode, cluster: string) => PodPlan[];
  want: Expect[];
  tolerate?: Tolerated[];
}

/** Every fault starts here, after a healthy period that fills the rules' 5-minute windows. */
const F = minutes(8);
/** After a recovery: long enough for the 15-minute windows' aftermath and a `for: 5m` on top. */
const SETTLE = minutes(12);
/** How long each node's turn in the rollout takes: 45 s without a pod, then the new one ready for 30 s. */
const ROLL_STEP = 75;

/**
 * The budget-burn tickets judge 6 hours of history; a compressed run holds about an hour, so ten
 * minutes of slow puts on one member of three reads as a burn it would not be in a real cluster
 * (10 min × 1/3 over 6 h is under 1 %, the ticket's threshold 6 %).
 */
const BURN_ARTEFACT: Tolerated = {
  receiver: 'tickets',
  alertname: 'VigilEtcdWriteLatencyBudgetBurn',
  why: "the 6-hour window holds only the compressed run's hour of history",
};

function row(s: Omit<Scenario, 'nodes' | 'end'> & { nodes?: number; end?: number }): Scenario {
  return { nodes: 10, end: (s.recoverAt ?? s.faultAt) + SETTLE, ...s };
}

export const SCENARIOS: readonly Scenario[] = [
  row({
    row: '1',
    id: 'node-down',
    title: 'a worker node goes down for 10 min',
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { nodesDown: ['w-3'] }),
    // The node reboots: the same pod's agent starts again, counters from zero.
    pods: (n, c) => [{ ...defaultPod(c, n), from: 0, ...(n.name === 'w-3' ? { down: [[F, F + minutes(10)]] } : {}) }],
    want: [{ receiver: 'pager', alertname: 'VigilNodeUnreachable', names: ['w-3'] }],
  }),
  row({
    row: '2',
    id: 'overlay-node',
    title: "a node's pod network dead, its host network fine, 10 min",
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { podNetworkDown: ['w-4'] }),
    want: [{ receiver: 'pager', alertname: 'VigilOverlayNetworkBroken', names: ['w-4'] }],
  }),
  row({
    row: '3',
    id: 'partition',
    title: 'partition: 3 of 10 nodes cut off for 10 min, Prometheus on the majority side',
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { cutOff: ['w-5', 'w-6', 'w-7'] }),
    want: [{ receiver: 'pager', alertname: 'VigilNetworkPartition' }],
  }),
  row({
    row: '4',
    id: 'etcd-quorum',
    title: 'etcd quorum lost for 10 min: 2 of 3 members stop answering',
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), {
      etcd: { down: ['cp-1', 'cp-2'], noLeader: ['cp-3'] },
      apiserver: { reason: 'readyz-failed', nodes: ['cp-1', 'cp-2', 'cp-3', 'w-1', 'w-2', 'w-3', 'w-4', 'w-5'] },
      leasesUnreadable: true,
      podScheduling: { reason: 'api-error' },
    }),
    want: [{ receiver: 'pager', alertname: 'VigilEtcdNoLeader' }],
  }),
  row({
    row: '5',
    id: 'apiserver-down',
    title: 'API server down for 25 min',
    faultAt: F,
    recoverAt: F + minutes(25),
    faults: during(F, F + minutes(25), { apiserver: { reason: 'api-error' }, leasesUnreadable: true, podScheduling: { reason: 'api-error' } }),
    want: [{ receiver: 'pager', alertname: 'VigilAPIServerUnhealthy' }],
  }),
  row({
    row: '6',
    id: 'scheduler-down',
    title: 'kube-scheduler down for 15 min',
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: during(F, F + minutes(15), { leaseRenewedAt: { 'kube-scheduler': F }, podScheduling: { reason: 'unschedulable' } }),
    want: [{ receiver: 'pager', alertname: 'VigilControlPlaneLeaseStale', names: ['kube-scheduler'] }],
  }),
  row({
    row: '7',
    id: 'etcd-put-hang',
    title: "an etcd member's puts hang (2 s request timeout) for 10 min; status still answers",
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { etcd: { putHangs: ['cp-2'] } }),
    want: [{ receiver: 'pager', alertname: 'VigilEtcd.+', names: ['cp-2'] }],
    tolerate: [BURN_ARTEFACT],
  }),
  row({
    row: '8',
    id: 'etcd-member-isolated',
    title: 'an etcd member cut off from its peers for 10 min: answers status, knows no leader',
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { etcd: { noLeader: ['cp-3'] } }),
    want: [{ receiver: 'pager|team', alertname: 'VigilEtcd.+', names: ['cp-3'] }],
  }),
  row({
    row: '9',
    id: 'overlay-pair',
    title: 'overlay broken between two hosts only, 15 min',
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: during(F, F + minutes(15), { overlayBroken: [['w-1', 'w-2']] }),
    // One alert per direction, both in one notification.
    want: [{ receiver: 'team', alertname: 'VigilOverlayLinkBroken', names: ['w-1', 'w-2'], count: 2, together: true }],
  }),
  row({
    row: '10',
    id: 'disk-filling',
    title: "a node's disk fills past 85 % then 90 % and stays there 36 min, then is cleaned up",
    faultAt: F,
    recoverAt: F + minutes(40),
    faults: (v) => {
      // 70 % before; rises 5 points a minute to 95 % (85 % at F+3.6 min, 90 % at F+4.8 min); 55 % once cleaned.
      const used = v < F ? 0.7 : v < F + minutes(40) ? Math.min(0.95, 0.7 + ((v - F) / 60) * (0.25 / 6)) : 0.55;
      return { filesystemUsed: { 'w-6': used } };
    },
    // Filling this fast, it pages at the eviction threshold; the warning gives way before its `for` is up.
    want: [{ receiver: 'pager', alertname: 'VigilNodeFilesystemFull', names: ['w-6'] }],
  }),
  row({
    row: '11',
    id: 'clock-skew',
    title: "a node's clock 150 s behind for 15 min",
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: during(F, F + minutes(15), { clockOffset: { 'w-2': -150 } }),
    want: [{ receiver: 'team', alertname: 'VigilClockOffset', names: ['w-2'] }],
  }),
  row({
    row: '11b',
    id: 'clock-skew-3',
    title: "a node's clock 150 s behind for 15 min, 3-node cluster",
    nodes: 3,
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: during(F, F + minutes(15), { clockOffset: { 'cp-2': -150 } }),
    want: [{ receiver: 'team', alertname: 'VigilClockOffset', names: ['cp-2'] }],
  }),
  row({
    row: '12',
    id: 'rollout',
    title: 'DaemonSet rolling update, one node at a time: old pod leaves, new pod 45 s later',
    faultAt: F,
    recoverAt: F + ROLL_STEP * 10,
    faults: () => ({}),
    pods: (n, c) => {
      const leaves = F + n.index * ROLL_STEP;
      return [
        { ...defaultPod(c, n, 1), from: 0, to: leaves },
        { ...defaultPod(c, n, 2), from: leaves + 45 },
      ];
    },
    want: [],
  }),
  row({
    row: '13',
    id: 'agent-restart',
    title: 'an agent restart taking 60 s (2 refused scrapes)',
    faultAt: F,
    recoverAt: F + 60,
    faults: () => ({}),
    pods: (n, c) => [{ ...defaultPod(c, n), from: 0, ...(n.name === 'w-3' ? { down: [[F, F + 60]] } : {}) }],
    want: [],
  }),
  row({
    row: '14a',
    id: 'etcd-slow-blip',
    title: "one etcd member's disk slow (puts 400 ms) for 2.5 min",
    faultAt: F,
    recoverAt: F + 150,
    faults: during(F, F + 150, { etcd: { putSeconds: { 'cp-2': 0.4 } } }),
    want: [],
  }),
  row({
    row: '14b',
    id: 'etcd-slow-sustained',
    title: "one etcd member's disk slow (puts 400 ms) for 10 min",
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { etcd: { putSeconds: { 'cp-2': 0.4 } } }),
    // How soon it pages is the promtool tests' to assert (alerts/tests/etcd.yml), not a wall clock's on a busy machine.
    want: [{ receiver: 'pager', alertname: 'VigilEtcd.+', names: ['cp-2'] }],
    tolerate: [BURN_ARTEFACT],
  }),
  row({
    row: '15',
    id: 'crash-loop',
    title: 'a crash-looping agent: down 90 s, up 90 s, for 15 min',
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: () => ({}),
    pods: (n, c) => [{ ...defaultPod(c, n), from: 0, ...(n.name === 'w-4' ? { down: Array.from({ length: 5 }, (_, i) => [F + i * 180, F + i * 180 + 90] as const) } : {}) }],
    // How soon: alerts/tests/agent.yml.
    want: [{ receiver: 'team', alertname: 'VigilAgent.+', names: ['w-4'] }],
  }),
  row({
    row: '17',
    id: 'control-plane-down',
    title: 'a control-plane node goes down for 10 min: its agents and its etcd member with it',
    faultAt: F,
    recoverAt: F + minutes(10),
    faults: during(F, F + minutes(10), { nodesDown: ['cp-2'], etcd: { down: ['cp-2'] } }),
    pods: (n, c) => [{ ...defaultPod(c, n), from: 0, ...(n.name === 'cp-2' ? { down: [[F, F + minutes(10)]] } : {}) }],
    want: [{ receiver: 'pager', alertname: 'VigilNodeUnreachable', names: ['cp-2'] }],
  }),
  row({
    row: '18',
    id: 'kube-proxy',
    title: 'kube-proxy broken on one node for 15 min: Service IPs (DNS, the API server) time out from it',
    faultAt: F,
    recoverAt: F + minutes(15),
    faults: during(F, F + minutes(15), { servicesBroken: ['w-5'] }),
    want: [{ receiver: 'pager', alertname: 'VigilNodeServicesUnreachable', names: ['w-5'] }],
  }),
  row({
    row: '16',
    id: 'healthy',
    title: 'a healthy cluster for the whole run',
    faultAt: F,
    faults: () => ({}),
    want: [],
  }),
];

/** The rows named in `list` (comma-separated ids or row numbers), or all. */
export function selectScenarios(list: string | undefined): Scenario[] {
  if (!list?.trim()) return [...SCENARIOS];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.id === n || s.row === n));
  if (unknown.length > 0) throw new Error(`VIGIL_MATRIX_ROWS names no row ${unknown.join(', ')}; rows: ${SCENARIOS.map((s) => `${s.row}=${s.id}`).join(' ')}`);
  return SCENARIOS.filter((s) => names.includes(s.id) || names.includes(s.row));
}
