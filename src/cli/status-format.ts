import type { ClusterStatus, LocalStatusWithPeers } from '../status/cluster-types.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function unreachable(from: { pod: string[]; host: string[] }): string {
  const parts = (['pod', 'host'] as const).filter((n) => from[n].length > 0).map((n) => `${n}: ${from[n].join(', ')}`);
  return parts.length ? `unreachable from ${parts.join('; ')}` : 'reachable';
}

/** "4m 10s": the largest two units of a duration. */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** "since 13:02:11 UTC (4m 10s)", with the date when it is not the day of `now`. */
export function formatSince(since: string | null, now: string): string {
  if (!since) return 'since unknown';
  const t = Date.parse(since);
  const n = Date.parse(now);
  if (Number.isNaN(t) || Number.isNaN(n)) return 'since unknown';
  const d = new Date(t).toISOString();
  const clock = d.slice(0, 10) === new Date(n).toISOString().slice(0, 10) ? d.slice(11, 19) : `${d.slice(0, 10)} ${d.slice(11, 19)}`;
  return `since ${clock} UTC (${t > n ? 'in the future: clock skew' : formatDuration(n - t)})`;
}

/** The cluster as a table: node, verdict, failing probes, reachability; then the causes. */
export function formatCluster(s: ClusterStatus): string {
  const rows = [['NODE', 'VERDICT', 'FAILING PROBES', 'REACHABILITY']];
  for (const n of s.nodes) {
    const failing = n.probes.filter((p) => !p.skipped && (p.verdict === 'warning' || p.verdict === 'critical')).map((p) => `${p.name} (${p.verdict})`);
    rows.push([n.name, n.verdict, failing.join(', ') || '-', unreachable(n.unreachableFrom) + (n.answered ? '' : `; no answer: ${n.error ?? 'unknown'}`)]);
  }
  const out = [`cluster ${s.verdict} (asked ${s.observer} at ${s.time})`];
  // an agent of an earlier version sends no completeness
  const c = s.completeness as ClusterStatus['completeness'] | undefined;
  if (c) {
    const through = c.relays ? `, through ${c.relays.answered} relays for ${c.relays.groups} groups${c.relays.askedDirectly ? `, ${c.relays.askedDirectly} asked directly` : ''}` : '';
    out.push(`${c.unanswered === 0 ? 'complete' : 'partial'}: ${c.answered} of ${c.nodes} nodes answered${through}; the oldest answer is ${c.oldestAnswerSeconds === null ? 'unknown' : `${c.oldestAnswerSeconds.toFixed(1)} s`} old`);
  }
  out.push('', table(rows));
  if (s.causes.length) {
    out.push('', 'causes:');
    for (const c of s.causes) out.push(`  ${c.severity.padEnd(8)}  ${c.message} — ${formatSince(c.since, s.time)}`);
  }
  if (s.partitions.length) out.push('', `partition: ${s.partitions.map((side) => `{${side.join(', ')}}`).join(' | ')}`);
  return `${out.join('\n')}\n`;
}

/** One node: its probes, then what it sees of its peers. */
export function formatLocal(s: LocalStatusWithPeers): string {
  const probes = [['PROBE', 'VERDICT', 'SINCE', 'MESSAGE'], ...s.probes.map((p) => [p.name, p.verdict, p.since ?? '-', p.message])];
  const out = [`node ${s.node}: ${s.verdict} (at ${s.time})`, '', table(probes)];
  if (s.peers.length) {
    const peers = [['PEER', 'NETWORK', 'UP', 'RTT', 'CLOCK OFFSET', 'ERROR']];
    for (const p of s.peers) {
      peers.push([p.peer, p.network, p.up ? 'up' : 'down', p.rttSeconds === null ? '-' : `${(p.rttSeconds * 1000).toFixed(1)} ms`, p.clockOffsetSeconds === null ? '-' : `${(p.clockOffsetSeconds * 1000).toFixed(0)} ms`, p.error ?? '-']);
    }
    out.push('', table(peers));
  }
  return `${out.join('\n')}\n`;
}

/** 0 healthy, 1 degraded, 2 could not determine. */
export function clusterExitCode(s: ClusterStatus): number {
  return s.verdict === 'healthy' ? 0 : s.verdict === 'degraded' ? 1 : 2;
}

export function localExitCode(s: LocalStatusWithPeers): number {
  return s.verdict === 'ok' ? 0 : s.verdict === 'unknown' ? 2 : 1;
}
