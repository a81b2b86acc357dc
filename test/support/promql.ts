import { parser } from '@prometheus-io/lezer-promql';

export interface PromQLCheck {
  /** Text around each place the grammar could not parse. */
  errors: string[];
  /** Metric names selected, in order of appearance. */
  metrics: string[];
  /** The range of every range selector, as written (e.g. "5m"). */
  ranges: string[];
}

/** Parses a PromQL expression with Prometheus' own Lezer grammar and walks the syntax tree. */
export function checkPromQL(expr: string): PromQLCheck {
  const out: PromQLCheck = { errors: [], metrics: [], ranges: [] };
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) out.errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
      else if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') out.metrics.push(expr.slice(node.from, node.to));
      else if (node.name === 'MatrixSelector') {
        const text = expr.slice(node.from, node.to);
        out.ranges.push(text.slice(text.lastIndexOf('[') + 1, -1));
      }
    },
  });
  return out;
}

/**
 * The names of the series a /metrics text can hold, from its # TYPE lines: prom-client writes them
 * for every registered metric, samples or not. Histograms expand to _bucket, _sum and _count.
 */
export function seriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}
