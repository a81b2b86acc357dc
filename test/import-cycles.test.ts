import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { findCycles as cyclesOf, importGraph as graphOf, importsOf } from '../scripts/import-cycles.ts';

const root = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-cycles-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmp, 't-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'src', name)), { recursive: true });
    writeFileSync(path.join(dir, 'src', name), text);
  }
  return dir;
}

describe('import graph', () => {
  it('has no cycle among the modules of src/, type-only imports included', () => {
    const graph = graphOf(root, 'src');
    assert.ok(graph.size > 50, `only ${graph.size} modules found`);
    assert.deepEqual(cyclesOf(graph), []);
  });

  it('finds a ring of type-only imports across folders, and a module importing itself', () => {
    const dir = tree({
      'a/one.ts': "import type { B } from '../b/two.ts';\nexport type A = B;\n",
      'b/two.ts': "export { x } from './three.ts';\nexport type B = number;\n",
      'b/three.ts': "export const x = () => import('../a/one.ts');\n",
      'c/self.ts': "import './self.ts';\n",
      'c/free.ts': "import { x } from '../b/three.ts';\nvoid x;\n",
    });
    assert.deepEqual(cyclesOf(graphOf(dir, 'src')), [['src/a/one.ts', 'src/b/three.ts', 'src/b/two.ts'], ['src/c/self.ts']]);
  });

  it('reads import, export-from and import() specifiers, not those in comments', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n  C,\n} from '../b.ts';",
      "export * from './c.ts';",
      "const d = await import('./d.ts');",
      "import 'node:fs';",
      "// import { e } from './e.ts';",
      "/* import { f } from './f.ts'; */",
    ].join('\n');
    assert.deepEqual(importsOf(text), ['./a.ts', '../b.ts', './c.ts', './d.ts']);
  });
});
