import { VERDICT_RANK, type CompletedRun, type ProbeStatus, type StatusVerdict, type Transition, type Verdict } from '../verdict.ts';

export type { ProbeStatus } from '../verdict.ts';

export interface LocalStatusReport {
  node: string;
  verdict: StatusVerdict;
  time: string;
  probes: ProbeStatus[];
}

interface Entry {
  verdict: StatusVerdict;
  since: number | null;
  run: CompletedRun | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A node's verdict is its worst probe's; unknown until some probe has reported. */
export function nodeVerdict(verdicts: readonly StatusVerdict[]): StatusVerdict {
  const known = verdicts.filter((v): v is Verdict => v !== 'unknown');
  if (known.length === 0) return 'unknown';
  return known.reduce((a, b) => (VERDICT_RANK[b] > VERDICT_RANK[a] ? b : a), 'ok');
}

/** The last result of every probe on this node, and since when its verdict holds. */
export class LocalStatus {
  readonly #node: string;
  readonly #entries = new Map<string, Entry>();
  readonly #onTransition: (t: Transition) => void;
  readonly #now: () => number;

  constructor(opts: { node: string; probes: readonly string[]; now: () => number; onTransition?: (t: Transition) => void }) {
    this.#node = opts.node;
    this.#now = opts.now;
    this.#onTransition = opts.onTransition ?? (() => {});
    for (const name of opts.probes) this.#entries.set(name, { verdict: 'unknown', since: null, run: null });
  }

  record(run: CompletedRun): void {
    const entry = this.#entries.get(run.probe) ?? { verdict: 'unknown' as StatusVerdict, since: null, run: null };
    this.#entries.set(run.probe, entry);
    entry.run = run;
    if (run.result.skipped) return;
    const to = run.result.verdict;
    if (entry.verdict !== to) {
      const from = entry.verdict;
      entry.verdict = to;
      entry.since = run.finishedAt;
      this.#onTransition({ time: run.finishedAt, probe: run.probe, from, to, reason: to === 'ok' ? null : (run.result.reason ?? null), message: run.result.message });
    }
  }

  snapshot(): LocalStatusReport {
    const probes: ProbeStatus[] = [...this.#entries].map(([name, e]) => ({
      name,
      verdict: e.verdict,
      reason: e.run && e.run.result.verdict !== 'ok' ? (e.run.result.reason ?? null) : null,
      message: e.run?.result.message ?? 'not run yet',
      since: iso(e.since),
      lastRun: iso(e.run?.finishedAt ?? null),
      durationSeconds: e.run ? (e.run.finishedAt - e.run.startedAt) / 1000 : null,
      skipped: e.run?.result.skipped ?? false,
      observations: e.run?.result.observations ?? null,
      facts: e.run?.result.facts ?? null,
    }));
    return { node: this.#node, verdict: nodeVerdict(probes.map((p) => p.verdict)), time: new Date(this.#now()).toISOString(), probes };
  }
}
