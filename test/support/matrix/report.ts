// The matrix as a table for the test's output: per row, what each receiver was sent and what was wanted.
import { describeExpect, type Verdict } from './judge.ts';
import type { Scenario } from './scenarios.ts';

const RECEIVERS = ['pager', 'team', 'tickets'];

export function renderMatrix(rows: readonly { scenario: Scenario; verdict: Verdict }[], stray: readonly string[]): string {
  const header = ['row', 'scenario', ...RECEIVERS, 'wanted', ''];
  const lines = rows.map(({ scenario: s, verdict: v }) => [s.row, s.id, ...RECEIVERS.map((r) => (v.notified[r] ?? []).join(', ') || '-'), s.want.map(describeExpect).join('; ') || 'nothing', v.problems.length === 0 ? 'ok' : 'FAIL']);
  const others = [...new Set(rows.flatMap((r) => Object.keys(r.verdict.notified)))].filter((r) => !RECEIVERS.includes(r));
  if (others.length > 0) lines.push(['', `(receivers ${others.join(', ')} also notified)`, '', '', '', '', '']);
  const width = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join(' | ')
      .trimEnd();
  const out = [fmt(header), width.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(fmt)];
  for (const { scenario: s, verdict: v } of rows) {
    if (v.problems.length > 0) out.push(`  ${s.row} ${s.id}: ${v.problems.join('; ')}`);
    if (v.delays.length > 0) out.push(`  ${s.row} ${s.id}: ${v.delays.join('; ')}`);
  }
  if (stray.length > 0) out.push(`  notified without a matrix cluster label: ${stray.join('; ')}`);
  return out.join('\n');
}
