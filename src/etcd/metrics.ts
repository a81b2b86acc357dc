import type { EtcdMetrics } from '../metrics/metrics.ts';
import type { MemberObservation } from './verdict.ts';

/** The alarms etcd raises; each is exported for every member, 0 or 1, so alerts see it appear. */
export const ETCD_ALARMS = ['NOSPACE', 'CORRUPT'] as const;

/** Writes one run's observations into the etcd metrics; a member that did not answer drops its figures. */
export function recordEtcdMetrics(metrics: EtcdMetrics, members: readonly MemberObservation[], hasLeader: boolean): void {
  metrics.etcdHasLeader.set(hasLeader ? 1 : 0);
  for (const m of members) {
    const endpoint = m.endpoint;
    metrics.etcdEndpointUp.set({ endpoint }, m.down ? 0 : 1);
    metrics.etcdEndpointIsLeader.set({ endpoint }, !m.down && m.memberId !== undefined && m.memberId === m.leader ? 1 : 0);
    if (m.down) {
      metrics.etcdDbSize.remove({ endpoint });
      for (const alarm of ETCD_ALARMS) metrics.etcdAlarm.remove({ endpoint, alarm });
      continue;
    }
    if (m.dbSizeBytes !== undefined) metrics.etcdDbSize.set({ endpoint }, m.dbSizeBytes);
    const raised = new Set((m.alarms ?? []).filter((a) => a.memberId === m.memberId).map((a) => a.alarm));
    for (const alarm of new Set([...ETCD_ALARMS, ...raised])) metrics.etcdAlarm.set({ endpoint, alarm }, raised.has(alarm) ? 1 : 0);
    if (m.putMs !== undefined) metrics.etcdRequestDuration.observe({ endpoint, operation: 'put' }, m.putMs / 1000);
    if (m.getMs !== undefined) metrics.etcdRequestDuration.observe({ endpoint, operation: 'get' }, m.getMs / 1000);
  }
}
