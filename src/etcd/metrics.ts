import type { EtcdMetrics } from '../metrics/metrics.ts';
import type { MemberObservation } from './verdict.ts';

/** The alarms etcd raises; each is exported for every member, 0 or 1, so alerts see it appear. */
export const ETCD_ALARMS = ['NOSPACE', 'CORRUPT'] as const;

const refusedUs = (m: MemberObservation) => m.down?.kind === 'tls' || m.down?.kind === 'auth';

/**
 * Writes one run's observations into the etcd metrics, each member under its name as etcd reports
 * it. A member that did not answer drops its figures. A member that refused the probe's own TLS or
 * auth settings says nothing about its health: its series go, rather than reading "down", and the
 * failure shows as the probe's tls/auth reason instead.
 */
export function recordEtcdMetrics(metrics: EtcdMetrics, members: readonly MemberObservation[], hasLeader: boolean, exported: Map<string, string>): void {
  if (members.every(refusedUs)) metrics.etcdHasLeader.remove();
  else metrics.etcdHasLeader.set(hasLeader ? 1 : 0);
  for (const m of members) {
    const member = m.member ?? exported.get(m.endpoint) ?? m.endpoint;
    const before = exported.get(m.endpoint);
    // Named by its endpoint until it first answered, or by its ID until the member list did: the old series go.
    if (before !== undefined && before !== member) dropMember(metrics, before);
    exported.set(m.endpoint, member);
    if (refusedUs(m)) {
      metrics.etcdEndpointUp.remove({ member });
      metrics.etcdEndpointIsLeader.remove({ member });
    } else {
      metrics.etcdEndpointUp.set({ member }, m.down ? 0 : 1);
      metrics.etcdEndpointIsLeader.set({ member }, !m.down && m.memberId !== undefined && m.memberId === m.leader ? 1 : 0);
    }
    if (m.down) {
      metrics.etcdDbSize.remove({ member });
      for (const alarm of ETCD_ALARMS) metrics.etcdAlarm.remove({ member, alarm });
      continue;
    }
    if (m.dbSizeBytes !== undefined) metrics.etcdDbSize.set({ member }, m.dbSizeBytes);
    const raised = new Set((m.alarms ?? []).filter((a) => a.memberId === m.memberId).map((a) => a.alarm));
    for (const alarm of new Set([...ETCD_ALARMS, ...raised])) metrics.etcdAlarm.set({ member, alarm }, raised.has(alarm) ? 1 : 0);
    if (m.putMs !== undefined) metrics.etcdRequestDuration.observe({ member, operation: 'put' }, m.putMs / 1000);
    if (m.getMs !== undefined) metrics.etcdRequestDuration.observe({ member, operation: 'get' }, m.getMs / 1000);
  }
}

function dropMember(metrics: EtcdMetrics, member: string): void {
  metrics.etcdEndpointUp.remove({ member });
  metrics.etcdEndpointIsLeader.remove({ member });
  metrics.etcdDbSize.remove({ member });
  for (const alarm of ETCD_ALARMS) metrics.etcdAlarm.remove({ member, alarm });
  for (const operation of ['put', 'get']) metrics.etcdRequestDuration.remove({ member, operation });
}
