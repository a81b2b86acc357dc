// A peer's answer to GET /api/v1/status/local as a real agent with the deployed probe set gives it
// (five probes with messages and figures, its pings of its targets on both networks): what the
// cluster-status and status-check benchmarks send and check.
import type { ProbeStatus } from '../src/status/local.ts';
import type { LocalStatusWithPeers, PeerObservation } from '../src/status/cluster-types.ts';

export const PROBES = (node: string, now: string): ProbeStatus[] => [
  {
    name: 'node',
    verdict: 'ok',
    reason: null,
    message: 'filesystems below 80 % used; memory 41 % available',
    since: now,
    lastRun: now,
    durationSeconds: 0.004,
    skipped: false,
    observations: { '/ used ratio': 0.41, '/var/lib/kubelet used ratio': 0.41, 'memory available ratio': 0.41 },
  },
  {
    name: 'etcd',
    verdict: 'ok',
    reason: null,
    message: 'etcd: 3 members, leader etcd-a; put p50 4.1 ms, get p50 1.2 ms',
    since: now,
    lastRun: now,
    durationSeconds: 0.021,
    skipped: false,
    observations: { 'etcd-a put ms': 4.1, 'etcd-a get ms': 1.2, 'etcd-b put ms': 4.4, 'etcd-b get ms': 1.3, 'etcd-c put ms': 3.9, 'etcd-c get ms': 1.1, leader: 'etcd-a' },
  },
  { name: 'apiserver', verdict: 'ok', reason: null, message: 'GET /livez 200 in 3 ms; GET /readyz 200 in 4 ms', since: now, lastRun: now, durationSeconds: 0.008, skipped: false, observations: { 'livez ms': 3, 'readyz ms': 4 } },
  {
    name: 'control-plane',
    verdict: 'ok',
    reason: null,
    message: 'kube-scheduler lease renewed 1.2 s ago; kube-controller-manager lease renewed 0.8 s ago',
    since: now,
    lastRun: now,
    durationSeconds: 0.006,
    skipped: false,
    observations: { 'kube-scheduler lease age s': 1.2, 'kube-controller-manager lease age s': 0.8 },
  },
  {
    name: 'pod-scheduling',
    verdict: 'ok',
    reason: null,
    message: `probe pod on ${node}: scheduled in 0.02 s, running in 1.31 s, gone 0.41 s after deletion`,
    since: now,
    lastRun: now,
    durationSeconds: 1.8,
    skipped: false,
    observations: { 'scheduled s': 0.02, 'running s': 1.31, 'deleted s': 0.41 },
  },
];

export function localStatus(node: string, targets: string[], silent: Set<string>): LocalStatusWithPeers {
  const now = new Date().toISOString();
  const peers: PeerObservation[] = targets.flatMap((peer) =>
    (['pod', 'host'] as const).map((network) => {
      const up = !silent.has(peer);
      return { peer, network, up, rttSeconds: up ? 0.00042 : null, clockOffsetSeconds: up ? 0.0011 : null, lastChecked: now, since: now, error: up ? null : 'timeout after 2000 ms', failure: up ? null : ('timeout' as const) };
    }),
  );
  return { node, verdict: 'ok', time: now, probes: PROBES(node, now), peers };
}
