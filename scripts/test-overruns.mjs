// A second reporter for node's test runner (scripts/run-tests.mjs): silent while files pass; when a
// file is stopped at the runner's limit, it names the tests that were still running in it. With
// VIGIL_TEST_TIMES_FILE set, it writes the slowest files there at the end (not to the output, whose
// last lines are the runner's summary), so the suite's time can be followed where it goes.
//
// node 20 streams one file's events at a time and buffers the others' until their turn, so a
// test's own running time is not known here; the file's is.

import { writeFileSync } from 'node:fs';

const SLOWEST = 12;

/** @param {{ name: string; nesting: number }[]} stack */
const pathOf = (stack) => stack.map((t) => t.name).join(' › ');

/** @param {AsyncIterable<{ type: string; data: any }>} source */
export default async function* overruns(source) {
  /** @type {Map<string, { name: string; nesting: number }[]>} the tests started and not yet ended, per file */
  const open = new Map();
  /** @type {{ file: string; seconds: number }[]} */
  const files = [];
  for await (const { type, data } of source) {
    const file = data?.file;
    if (!file) continue;
    if (data.nesting === 0 && data.name === file) {
      // the file itself, as the parent runs it
      if (type === 'test:dequeue') open.set(file, []);
      // complete comes for every file as it ends; fail comes once the file's buffered events are out
      if (type === 'test:complete') files.push({ file, seconds: (data.details?.duration_ms ?? 0) / 1000 });
      if (type !== 'test:fail') continue;
      const error = data.details?.error;
      if (error?.failureType === 'testTimeoutFailure' || error?.failureType === 'cancelledByParent') {
        const running = open.get(file) ?? [];
        const seconds = (data.details?.duration_ms ?? 0) / 1000;
        yield `\n${file}: stopped after ${seconds.toFixed(0)} s (${error.message ?? error.failureType}); still running then: ${running.length ? pathOf(running) : 'no test had started'}\n`;
      }
      open.delete(file);
      continue;
    }
    const stack = open.get(file);
    if (!stack) continue;
    if (type === 'test:dequeue') {
      // a test starts inside the last one still open at a lower nesting
      while (stack.length > data.nesting) stack.pop();
      stack.push({ name: data.name, nesting: data.nesting });
    } else if (type === 'test:pass' || type === 'test:fail') {
      const i = stack.findIndex((t) => t.nesting === data.nesting && t.name === data.name);
      if (i >= 0) stack.splice(i);
    }
  }
  const out = process.env.VIGIL_TEST_TIMES_FILE;
  if (!out || files.length === 0) return;
  const slowest = files.sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST);
  const total = files.reduce((s, f) => s + f.seconds, 0);
  writeFileSync(out, `slowest test files (of ${files.length}, ${(total / 60).toFixed(1)} min in all):\n${slowest.map((f) => `  ${f.seconds.toFixed(0).padStart(5)} s  ${f.file}`).join('\n')}\n`);
}
