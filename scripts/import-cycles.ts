// Finds circular imports among the project's own modules: every relative `import`, `export … from`
// and `import()` in src/ (type-only imports included: a ring of types is a ring of responsibilities).
// Prints each cycle and exits 1 when there is one: npx tsx scripts/import-cycles.ts
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|js|mjs)$/;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(p);
    return SOURCE.test(e.name) && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Relative specifiers a file imports, comments stripped. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) out.push(spec);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  const p = path.resolve(path.dirname(from), spec);
  for (const c of [p, p.replace(/\.js$/, '.ts'), `${p}.ts`, path.join(p, 'index.ts')]) if (existsSync(c) && SOURCE.test(c)) return c;
  return undefined;
}

/** Strongly connected components of more than one module (or a module importing itself). */
export type ImportGraph = Map<string, Set<string>>;

export function findCycles(graph: ImportGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** The import graph of every module under `dir`, keyed by path relative to `root`. */
export function importGraph(root: string, dir: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of walk(path.join(root, dir))) {
    const key = path.relative(root, file);
    const deps = new Set<string>();
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(file, spec);
      if (target) deps.add(path.relative(root, target));
    }
    graph.set(key, deps);
  }
  return graph;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const cycles = findCycles(importGraph(root, 'src'));
  for (const c of cycles) console.error(`import cycle: ${c.join(' ↔ ')}`);
  process.exit(cycles.length > 0 ? 1 : 0);
}
