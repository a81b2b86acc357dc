// Whether an agent kept every probe on schedule over a window, read from its own metrics:
// vigil_probe_interval_seconds, vigil_probe_runs_total and vigil_probe_skipped_runs_total.
import { RUN_JITTER } from '../../src/runner/jitter.ts';

export interface ProbeCounts {
  interval: number;
  runs: number;
  skipped: number;
}

/** Each probe's interval, runs and skipped runs from a /metrics text. */
export function probeCounts(text: string): Map<string, ProbeCounts> {
  const out = new Map<string, ProbeCounts>();
  const each = (metric: string, key: keyof ProbeCounts) => {
    for (const m of text.matchAll(new RegExp(`^${metric}\\{probe="([^"]+)"\\} (\\S+)$`, 'gm'))) {
      const c = out.get(m[1]!) ?? { interval: NaN, runs: NaN, skipped: NaN };
      c[key] = Number(m[2]);
      out.set(m[1]!, c);
    }
  };
  each('vigil_probe_interval_seconds', 'interval');
  each('vigil_probe_runs_total', 'runs');
  each('vigil_probe_skipped_runs_total', 'skipped');
  return out;
}

export interface ScheduleKept {
  /** Per probe: runs completed in the window, the fewest its schedule allows, and runs skipped. */
  runs: Record<string, { runs: number; atLeast: number; skipped: number }>;
  /** A line per probe that completed fewer runs than its schedule allows. */
  late: string[];
  /** A line per probe that skipped runs. */
  skipped: string[];
}

/**
 * A run is late when the scheduler could not keep up: over the window each probe must have
 * completed as many runs as its interval gives even if every jittered delay were the longest
 * (less one, for a run cut by either end of the window).
 */
export function scheduleKept(before: Map<string, ProbeCounts>, after: Map<string, ProbeCounts>, windowSeconds: number): ScheduleKept {
  const out: ScheduleKept = { runs: {}, late: [], skipped: [] };
  for (const [probe, b] of before) {
    const e = after.get(probe);
    if (!e) {
      out.late.push(`${probe}: no longer exported`);
      continue;
    }
    const atLeast = Math.floor(windowSeconds / (b.interval * (1 + RUN_JITTER))) - 1;
    const r = { runs: e.runs - b.runs, atLeast, skipped: e.skipped - b.skipped };
    out.runs[probe] = r;
    if (r.runs < atLeast) out.late.push(`${probe}: ${r.runs} runs in ${windowSeconds.toFixed(0)} s at a ${b.interval} s interval, at least ${atLeast} expected`);
    if (r.skipped > 0) out.skipped.push(`${probe}: ${r.skipped} skipped`);
  }
  return out;
}

/**
 * The skips that show a fault: the runner skips a tick while the previous run is in progress and
 * logs how long that run had been running against its timeout. A run past its timeout is one that
 * did not stop when aborted (a call that ignores the abort): a fault. A run still within its
 * timeout started late, its timer held up by an event loop starved of CPU (seen at load average 8
 * on two cores: 581 ms into an 800 ms budget at a 1 s interval), and the next tick came on time:
 * the runner working as designed. Lines logged before `since` (ms) are not counted.
 */
export function overranSkips(logs: readonly string[], since: number): string[] {
  const out: string[] = [];
  for (const line of logs) {
    if (!line.includes('skipping this one')) continue;
    let l: { time?: string; probe?: string; runningMs?: number; timeoutMs?: number };
    try {
      l = JSON.parse(line) as typeof l;
    } catch {
      out.push(line);
      continue;
    }
    if (l.time !== undefined && Date.parse(l.time) < since) continue;
    if (l.runningMs === undefined || l.timeoutMs === undefined || l.runningMs >= l.timeoutMs) out.push(line);
  }
  return out;
}
