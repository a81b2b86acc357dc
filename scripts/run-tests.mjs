#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner.
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
// The files that take minutes start first (longest first, as measured in fresh-clone runs: see
// docs/testing.md), so that the two slots finish together instead of one long file running alone
// at the end; the rest follow in name order. A file missing from the list only costs time.
const LONG_FIRST = ['memory-limit', 'notification-matrix', 'alerting-netns', 'soak', 'upgrade-day', 'container', 'alerting-e2e', 'alerts.test', 'pod-scheduling'].map((n) => `${path.sep}${n}`);
const rank = (f) => {
  const i = LONG_FIRST.findIndex((n) => f.includes(n));
  return i === -1 ? LONG_FIRST.length : i;
};
const files = ['src', 'test']
  .flatMap(walk)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
const concurrency = process.env.VIGIL_TEST_CONCURRENCY ?? '2';
// --test-timeout is the timeout of every test that sets none of its own (a test's own timeout
// wins): 20 minutes, far above what any test needs, so that a hung test is stopped and named
// (scripts/test-overruns.mjs) rather than holding the run until CI's limit. The long-run knobs
// raise it with them (VIGIL_SOAK_SECONDS=1800 runs the 30-minute soak under the runner).
const longRunSeconds = Math.max(0, ...['VIGIL_SOAK_SECONDS', 'VIGIL_MEMORY_LOAD_SECONDS'].map((k) => Number(process.env[k] ?? 0) || 0));
const fileLimitMs = Math.max(20 * 60, longRunSeconds + 10 * 60) * 1000;
const reporters = [
  // node's own choice when it has one reporter: spec on a terminal, TAP (whose summary CI reads) otherwise
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  // names the test a file was running when it was stopped, and where the suite's time went
  `--test-reporter=${path.join(import.meta.dirname, 'test-overruns.mjs')}`,
  '--test-reporter-destination=stderr',
];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${fileLimitMs}`, ...reporters, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
