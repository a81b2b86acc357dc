import type { EtcdMetrics } from '../metrics/metrics.ts';
import { hasLeaderOf, MEMBER_FAILURE_KINDS, type MemberObservation, type RequestFailure } from './verdict.ts';

/** The alarms etcd raises; each is exported for every member, 0 or 1, so alerts see it appear. */
export const ETCD_ALARMS = ['NOSPACE', 'CORRUPT'] as const;

const OPERATIONS = ['put', 'get'] as const;
type Operation = (typeof OPERATIONS)[number];

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
      metrics.etcdEndpointHasLeader.remove({ member });
    } else {
      metrics.etcdEndpointUp.set({ member }, m.down ? 0 : 1);
      metrics.etcdEndpointIsLeader.set({ member }, !m.down && m.memberId !== undefined && m.memberId === m.leader ? 1 : 0);
      // Only a member that answered can say whether it knows a leader.
      if (m.down) metrics.etcdEndpointHasLeader.remove({ member });
      else metrics.etcdEndpointHasLeader.set({ member }, hasLeaderOf(m) ? 1 : 0);
      // Every kind starts at 0, so the first failure is an increase that rate() and increase() see.
      for (const operation of OPERATIONS) for (const kind of MEMBER_FAILURE_KINDS) metrics.etcdRequestFailures.inc({ member, operation, kind }, 0);
    }
    if (m.down) {
      metrics.etcdDbSize.remove({ member });
      for (const alarm of ETCD_ALARMS) metrics.etcdAlarm.remove({ member, alarm });
      continue;
    }
    if (m.dbSizeBytes !== undefined) metrics.etcdDbSize.set({ member }, m.dbSizeBytes);
    const raised = new Set((m.alarms ?? []).filter((a) => a.memberId === m.memberId).map((a) => a.alarm));
    for (const alarm of new Set([...ETCD_ALARMS, ...raised])) metrics.etcdAlarm.set({ member, alarm }, raised.has(alarm) ? 1 : 0);
    recordRequest(metrics, member, 'put', m.putMs, m.putFailure);
    recordRequest(metrics, member, 'get', m.getMs, m.getFailure);
  }
}

/**
 * A request that answered is observed as its latency. One that timed out is observed as the time
 * it waited, so a member whose requests hang (an fsync that stalls) lands in the slowest buckets
 * instead of vanishing from the latency alerts; it is counted as a failure too. Other failures
 * (refused, auth, …) are not latencies and are only counted.
 */
function recordRequest(metrics: EtcdMetrics, member: string, operation: Operation, ms: number | undefined, failure: RequestFailure | undefined): void {
  if (ms !== undefined) metrics.etcdRequestDuration.observe({ member, operation }, ms / 1000);
  if (!failure) return;
  metrics.etcdRequestFailures.inc({ member, operation, kind: failure.kind });
  if (failure.kind === 'timeout' && failure.waitedMs !== undefined) metrics.etcdRequestDuration.observe({ member, operation }, failure.waitedMs / 1000);
}

function dropMember(metrics: EtcdMetrics, member: string): void {
  metrics.etcdEndpointUp.remove({ member });
  metrics.etcdEndpointIsLeader.remove({ member });
  metrics.etcdEndpointHasLeader.remove({ member });
  metrics.etcdDbSize.remove({ member });
  for (const alarm of ETCD_ALARMS) metrics.etcdAlarm.remove({ member, alarm });
  for (const operation of OPERATIONS) {
    metrics.etcdRequestDuration.remove({ member, operation });
    for (const kind of MEMBER_FAILURE_KINDS) metrics.etcdRequestFailures.remove({ member, operation, kind });
  }
}
