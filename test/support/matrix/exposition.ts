// A light stand-in for prom-client's registry, built from the real metric definitions (names,
// help, types, label names and bucket edges as src/metrics/metrics.ts declares them): a scrape of
// two hundred simulated agents every 2 s must cost little on a busy 2-core machine, and
// prom-client's own rendering is several times dearer than plain string building. A label that
// the real definition lacks is an error, so the synthetic series cannot drift from the real ones.
import { Counter, Gauge, Histogram, Registry } from '../../../src/metrics/prom.ts';

type Labels = Record<string, string>;

interface Definition {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  labelNames: readonly string[];
  buckets: readonly number[];
  /** A metric without labels that the agent leaves out until a run sets it (src/metrics/metrics.ts `measured`). */
  absentAtFirst?: boolean;
}

interface Internals {
  name: string;
  help: string;
  labelNames?: readonly string[];
  upperBounds?: number[];
  /** prom-client's values by label set: empty for a metric without labels that was removed. */
  hashMap?: Record<string, unknown>;
}

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** One metric family's values; the methods take what prom-client's take. */
export class Family {
  readonly #def: Definition;
  readonly #values = new Map<string, number>();
  readonly #histograms = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(def: Definition) {
    this.#def = def;
    // As prom-client does: a metric without labels exists, at zero, from the start, unless the
    // agent removes it until it has measured it.
    if (def.labelNames.length === 0 && !def.absentAtFirst) {
      if (def.type === 'histogram') this.#histograms.set('', { counts: def.buckets.map(() => 0), sum: 0, count: 0 });
      else this.#values.set('', 0);
    }
  }

  #key(labels: Labels = {}): string {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(labels)) {
      if (!this.#def.labelNames.includes(k)) throw new Error(`${this.#def.name} has no label ${k}`);
      parts.push(`${k}="${escapeValue(v)}"`);
    }
    return parts.join(',');
  }

  set(a: Labels | number, b?: number): void {
    this.#values.set(typeof a === 'number' ? '' : this.#key(a), typeof a === 'number' ? a : b!);
  }

  inc(a?: Labels | number, b?: number): void {
    const [key, by] = typeof a === 'object' ? [this.#key(a), b ?? 1] : ['', a ?? 1];
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  observe(a: Labels | number, b?: number): void {
    const [key, value] = typeof a === 'object' ? [this.#key(a), b!] : ['', a];
    let h = this.#histograms.get(key);
    if (!h) this.#histograms.set(key, (h = { counts: this.#def.buckets.map(() => 0), sum: 0, count: 0 }));
    this.#def.buckets.forEach((le, i) => value <= le && h.counts[i]!++);
    h.sum += value;
    h.count++;
  }

  remove(labels: Labels): void {
    const key = this.#key(labels);
    this.#values.delete(key);
    this.#histograms.delete(key);
  }

  render(out: string[]): void {
    const { name, help, type } = this.#def;
    out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    const braces = (key: string, extra = '') => (key === '' && extra === '' ? '' : `{${[key, extra].filter(Boolean).join(',')}}`);
    for (const [key, v] of this.#values) out.push(`${name}${braces(key)} ${v}`);
    for (const [key, h] of this.#histograms) {
      this.#def.buckets.forEach((le, i) => out.push(`${name}_bucket${braces(key, `le="${le}"`)} ${h.counts[i]}`));
      out.push(`${name}_bucket${braces(key, 'le="+Inf"')} ${h.count}`, `${name}_sum${braces(key)} ${h.sum}`, `${name}_count${braces(key)} ${h.count}`);
    }
  }
}

/** An agent's families, in the order they were made. */
export class Exposition {
  readonly #families: Family[] = [];

  /** Families for every metric a real factory (createMetrics, etcdMetrics, …) makes, under the same property names. */
  adopt<T extends object>(factory: (registry: Registry) => T): { [K in keyof T]: Family } {
    const out = {} as Record<string, Family>;
    for (const [prop, def] of Object.entries(definitionsOf(factory))) {
      const f = new Family(def);
      this.#families.push(f);
      out[prop] = f;
    }
    return out as { [K in keyof T]: Family };
  }

  /** A family the real definitions may not have yet. */
  family(def: Definition): Family {
    const f = new Family(def);
    this.#families.push(f);
    return f;
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.#families) f.render(out);
    return `${out.join('\n')}\n`;
  }

  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
}

const cache = new Map<unknown, Record<string, Definition>>();

/** The definitions a factory makes, read once from a scratch prom-client registry. */
function definitionsOf(factory: (registry: Registry) => object): Record<string, Definition> {
  let defs = cache.get(factory);
  if (defs) return defs;
  defs = {};
  const made = factory(new Registry()) as Record<string, unknown>;
  for (const [prop, m] of Object.entries(made)) {
    const type = m instanceof Histogram ? 'histogram' : m instanceof Counter ? 'counter' : m instanceof Gauge ? 'gauge' : undefined;
    if (!type) continue;
    const i = m as Internals;
    const absentAtFirst = type !== 'histogram' && (i.labelNames ?? []).length === 0 && i.hashMap !== undefined && Object.keys(i.hashMap).length === 0;
    defs[prop] = { name: i.name, help: i.help, type, labelNames: i.labelNames ?? [], buckets: i.upperBounds ?? [], absentAtFirst };
  }
  cache.set(factory, defs);
  return defs;
}
