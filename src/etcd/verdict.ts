import { VERDICT_RANK, worst, type Verdict } from '../verdict.ts';

/** Why an etcd member gave no usable answer, in the probe's bounded vocabulary (the peers' FailureKind is another thing). */
export const MEMBER_FAILURE_KINDS = ['unreachable', 'timeout', 'tls', 'auth', 'error'] as const;
export type MemberFailureKind = (typeof MEMBER_FAILURE_KINDS)[number];

export interface RequestFailure {
  kind: MemberFailureKind;
  text: string;
  /** Milliseconds the request waited before it failed; absent when it was never sent (no lease to attach the key to). */
  waitedMs?: number;
}

/** What one run saw of one configured member; produced by observeMember, judged here. */
export interface MemberObservation {
  /** The configured endpoint (host:port); it names the member. */
  endpoint: string;
  /** Set when the member did not answer its status request. */
  down?: RequestFailure;
  /** Decimal member ID, as etcd reports it in the response header. */
  memberId?: string;
  /** The member's name (etcd --name), from the member list; it names the member whatever address reached it. */
  name?: string;
  /**
   * The member's identity for metrics: its name as etcd reports it (or its hex ID when unnamed),
   * the same whichever address reached it; while it does not answer, the last identity it
   * answered with, or the endpoint if it never did.
   */
  member?: string;
  /** Decimal ID of the leader the member knows of; "0" when it knows none. */
  leader?: string;
  raftTerm?: string;
  raftIndex?: string;
  dbSizeBytes?: number;
  /** Alarms the member reports, cluster-wide: each names the member it is raised on. */
  alarms?: { memberId: string; alarm: string }[];
  putMs?: number;
  putFailure?: RequestFailure;
  getMs?: number;
  getFailure?: RequestFailure;
}

export interface Thresholds {
  /** Milliseconds above which a put is a warning. */
  warningMs: number;
  /** Milliseconds above which a put is critical. */
  criticalMs: number;
}

export const ETCD_REASONS = ['slow-write', 'write-failed', 'read-failed', 'unreachable', 'no-leader', 'quorum-lost', 'alarm', 'tls', 'auth'] as const;
export type EtcdReason = (typeof ETCD_REASONS)[number];

export interface Problem {
  verdict: Verdict;
  reason: EtcdReason;
  text: string;
  /** The problem is on the leader: with a slow leader every member's writes are slow, and it comes first. */
  onLeader?: boolean;
  /** The configured endpoint of the member the problem is about; absent for the cluster as a whole. */
  endpoint?: string;
}

export interface EtcdJudgement {
  verdict: Verdict;
  reason?: EtcdReason;
  message: string;
  hasLeader: boolean;
  /** Worst first. */
  problems: Problem[];
}

/** When two problems are equally severe, the one earlier here explains more and gives the reason. */
const PRIORITY: readonly EtcdReason[] = ['quorum-lost', 'no-leader', 'tls', 'auth', 'unreachable', 'alarm', 'slow-write', 'write-failed', 'read-failed'];

export const formatMs = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

export const hexId = (decimal: string) => {
  try {
    return BigInt(decimal).toString(16);
  } catch {
    return decimal;
  }
};

const failureReason = (f: RequestFailure, otherwise: EtcdReason): EtcdReason => (f.kind === 'tls' || f.kind === 'auth' ? f.kind : otherwise);

/** The member answered and knows a leader. */
export const hasLeaderOf = (o: MemberObservation) => !o.down && o.leader !== undefined && o.leader !== '0';

/**
 * The verdict on a set of members from what one run saw of each.
 * A member that does not answer, a cluster without a leader and raised alarms are critical;
 * a put slower than the thresholds is a warning or critical; each message names the endpoint.
 */
export function judgeEtcd(members: readonly MemberObservation[], t: Thresholds): EtcdJudgement {
  const problems: Problem[] = [];
  const up = members.filter((m) => !m.down);
  const down = members.filter((m) => m.down);
  const hasLeader = up.some(hasLeaderOf);
  const majority = Math.floor(members.length / 2) + 1;
  // Without a leader every write and linearizable read fails; those failures follow from it and are not repeated.
  const leaderless = up.length > 0 && !hasLeader;

  for (const m of down) {
    const f = m.down!;
    problems.push({ verdict: 'critical', reason: failureReason(f, 'unreachable'), endpoint: m.endpoint, text: `etcd ${m.endpoint}: ${f.kind === 'tls' || f.kind === 'auth' ? '' : 'unreachable: '}${f.text}` });
  }
  if (leaderless) {
    const names = down.map((m) => m.endpoint).join(', ');
    if (down.length > 0 && up.length < majority) {
      problems.push({ verdict: 'critical', reason: 'quorum-lost', text: `etcd quorum lost: ${up.length} of ${members.length} members reachable, none has a leader (down: ${names})` });
    } else {
      problems.push({ verdict: 'critical', reason: 'no-leader', text: `etcd has no leader: none of ${up.map((m) => m.endpoint).join(', ')} knows one` });
    }
  }

  const byMemberId = new Map(up.flatMap((m) => (m.memberId ? [[m.memberId, m.endpoint] as const] : [])));
  const alarmsSeen = new Set<string>();
  const leaderId = up.find(hasLeaderOf)?.leader;
  for (const m of up) {
    const onLeader = members.length > 1 && m.memberId !== undefined && m.memberId === leaderId;
    // In a cluster, saying which member leads tells a slow leader (every put slow) from a slow follower (its own).
    const name = onLeader ? `${m.endpoint} (leader)` : m.endpoint;
    for (const a of m.alarms ?? []) {
      const key = `${a.memberId}/${a.alarm}`;
      if (alarmsSeen.has(key)) continue;
      alarmsSeen.add(key);
      const on = byMemberId.get(a.memberId);
      const where = on ?? `member ${hexId(a.memberId)} (reported by ${m.endpoint})`;
      problems.push({ verdict: 'critical', reason: 'alarm', ...(on ? { endpoint: on } : {}), text: `etcd ${where}: alarm ${a.alarm} raised` });
    }
    if (m.putMs !== undefined) {
      if (m.putMs > t.criticalMs) problems.push({ verdict: 'critical', reason: 'slow-write', onLeader, endpoint: m.endpoint, text: `etcd ${name}: put ${formatMs(m.putMs)} > ${formatMs(t.criticalMs)}` });
      else if (m.putMs > t.warningMs) problems.push({ verdict: 'warning', reason: 'slow-write', onLeader, endpoint: m.endpoint, text: `etcd ${name}: put ${formatMs(m.putMs)} > ${formatMs(t.warningMs)}` });
    }
    if (leaderless) continue;
    if (m.leader === '0') {
      problems.push({ verdict: 'critical', reason: 'no-leader', endpoint: m.endpoint, text: `etcd ${m.endpoint}: knows no leader while other members do` });
      continue;
    }
    if (m.putFailure) {
      const f = m.putFailure;
      const reason = f.kind === 'timeout' ? 'slow-write' : failureReason(f, 'write-failed');
      problems.push({ verdict: 'critical', reason, onLeader, endpoint: m.endpoint, text: `etcd ${name}: put failed: ${f.text}` });
    }
    if (m.getFailure) problems.push({ verdict: 'critical', reason: failureReason(m.getFailure, 'read-failed'), onLeader, endpoint: m.endpoint, text: `etcd ${name}: linearizable get failed: ${m.getFailure.text}` });
  }

  if (problems.length === 0) {
    const slowest = Math.max(...up.map((m) => m.putMs ?? 0));
    const leaderName = leaderId === undefined ? undefined : (byMemberId.get(leaderId) ?? `member ${hexId(leaderId)}`);
    return {
      verdict: 'ok',
      message: `etcd: ${up.length} of ${members.length} member(s) answered; slowest put ${formatMs(slowest)}; leader ${leaderName ?? 'unknown'}`,
      hasLeader,
      problems,
    };
  }
  const verdict = worst(problems.map((p) => p.verdict));
  const ranked = [...problems].sort((a, b) => VERDICT_RANK[b.verdict] - VERDICT_RANK[a.verdict] || PRIORITY.indexOf(a.reason) - PRIORITY.indexOf(b.reason) || Number(b.onLeader ?? false) - Number(a.onLeader ?? false));
  return { verdict, reason: ranked[0]!.reason, message: ranked.map((p) => p.text).join('; '), hasLeader, problems: ranked };
}
