// The layering check `npm run lint` runs (dependency-cruiser with .dependency-cruiser.cjs): the
// real tree passes it, and on a small tree it names an import up a floor, a ring of type-only
// imports and a module with no floor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(REPO, 'node_modules/.bin/depcruise');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-layers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the check on a tree; the violations as "rule: from → to". */
function violations(cwd: string): string[] {
  const r = spawnSync(depcruise, ['src', '--config', path.join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'json'], { cwd, encoding: 'utf8' });
  assert.ok(r.stdout, `depcruise printed nothing: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

void describe('floors and rings', () => {
  void it('the tree as it is: no import up a floor, no ring, every module on a floor', () => {
    assert.deepEqual(violations(REPO), []);
  });

  void it('names an import up a floor (type-only included), a ring of type-only imports, and a module on no floor', () => {
    const dir = mkdtempSync(path.join(tmp, 't-'));
    copyFileSync(path.join(REPO, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    const files: Record<string, string> = {
      'src/verdict.ts': "export type V = 'ok';\n",
      'src/status/local.ts': "import type { V } from '../verdict.ts';\nexport type S = V;\n",
      // an adapter reading a status type: up two floors
      'src/k8s/client.ts': "import type { S } from '../status/local.ts';\nexport type K = S;\n",
      // a ring of types across two probes' folders
      'src/probes/a/probe.ts': "import type { B } from '../b/probe.ts';\nexport type A = { b?: B };\n",
      'src/probes/b/probe.ts': "import type { A } from '../a/probe.ts';\nexport type B = { a?: A };\n",
      'src/stray.ts': "import type { V } from './verdict.ts';\nexport type T = V;\n",
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    assert.deepEqual(violations(dir), ['no-circular: src/probes/a/probe.ts → src/probes/b/probe.ts', 'no-upward-from-adapters: src/k8s/client.ts → src/status/local.ts', 'on-a-floor: src/stray.ts → src/verdict.ts']);
  });
});
