// Evaluates PromQL over synthetic series with `promtool test rules` (promql_expr_test), so a test
// can check what a query returns, with the recording rules of a rules file evaluated alongside.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface InputSeries {
  /** A series in PromQL notation, e.g. `up{job="vigil"}`. */
  series: string;
  /** promtool's expanding notation or plain values, one per `interval`. */
  values: string;
}

export interface ExprCheck {
  expr: string;
  /** A duration after the first sample, e.g. "20m". */
  at: string;
  /** Exactly the samples the query must return; [] for none. */
  samples: { labels: string; value: number }[];
}

export interface EvalOptions {
  /** Rules files whose recording rules the expressions may use (absolute paths). */
  ruleFiles: string[];
  input: InputSeries[];
  checks: ExprCheck[];
  /** Between samples and between rule evaluations; 30s, vigil's scrape interval, unless told. */
  interval?: string;
}

/** Runs the checks; `ok` is false, with promtool's diff in `output`, when any result differs. */
export function promtoolEval(opts: EvalOptions): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-promtool-'));
  try {
    const interval = opts.interval ?? '30s';
    const doc = {
      rule_files: opts.ruleFiles,
      evaluation_interval: interval,
      tests: [
        {
          interval,
          input_series: opts.input,
          promql_expr_test: opts.checks.map((c) => ({ expr: c.expr, eval_time: c.at, exp_samples: c.samples })),
        },
      ],
    };
    // YAML is a superset of JSON: no quoting rules to get wrong.
    const file = path.join(dir, 'test.yml');
    writeFileSync(file, JSON.stringify(doc, null, 1));
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`, { cause: r.error });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A counter that rises by one every `every` samples, starting `phase` samples in, over `count` samples. */
export function steppedCounter(count: number, every: number, phase = 0): string {
  return Array.from({ length: count }, (_, i) => Math.floor((i + phase) / every)).join(' ');
}
