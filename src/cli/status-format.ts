import type { ClusterStatus, LocalStatusWithPeers } from '../status/cluster-types.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function unreachable(from: { pod: string[]; host: string[] }): string {
  const parts = (['pod', 'host'] as const).filter((n) => from[n].length > 0).map((n) => `${n}: ${from[n].join(', ')}`);
  return parts.length ? `unreachable from ${parts.join('; ')}` : 'reachable';
}

/** The cluster as a table: node, verdict, failing probes, reachability; then the causes. */
export function formatCluster(s: ClusterStatus): string {
  const rows = [['NODE', 'VERDICT', 'FAILING PROBES', 'REACHABILITY']];
  for (const n of s.nodes) {
    const failing = n.probes.filter((p) => !p.skipped && (p.verdict === 'warning' || p.verdict === 'critical')).map((p) => `${p.name} (${p.verdict})`);
    rows.push([n.name, n.verdict, failing.join(', ') || '-', unreachable(n.unreachableFrom) + (n.answered ? '' : `; no answer: ${n.error ?? 'unknown'}`)]);
  }
  const out = [`cluster ${s.verdict} (asked ${s.observer} at ${s.time})`, '', table(rows)];
  if (s.causes.length) {
    out.push('', 'causes:');
    for (const c of s.causes) out.push(`  ${c.severity.padEnd(8)}  ${c.message}`);
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
