#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (Node 20 has no --test glob).
// Arguments narrow the set: `node scripts/run-tests.mjs etcd` runs the files whose path contains "etcd".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });

const filters = process.argv.slice(2);
const files = ['src', 'test'].flatMap(walk).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
const concurrency = process.env.VIGIL_TEST_CONCURRENCY ?? '2';
// Each file gets 7 minutes: the memory-limit test holds its load for 5 (test/memory-limit.test.ts).
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=420000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
