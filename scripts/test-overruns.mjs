// A second reporter for node's test runner (scripts/run-tests.mjs): silent while tests pass; when a
// test is stopped at its timeout, it names it with the tests still running inside it (a suite's
// timeout stops the test it was in the middle of). With VIGIL_TEST_TIMES_FILE set, it writes the
// slowest files there at the end (not to the output, whose last lines are the runner's summary), so
// the suite's time can be followed where it goes.
//
// `test:complete` comes as each test ends (pass and fail come later, in declaration order), and
// each file appears as a test of its own, at nesting 0, named by its path as given to the runner.

import { writeFileSync } from 'node:fs';
import path from 'node:path';

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
    if (!file || typeof data.name !== 'string') continue;
    if (data.nesting === 0 && path.resolve(data.name) === file) {
      // the file itself, as the parent runs it
      if (type === 'test:complete') files.push({ file, seconds: (data.details?.duration_ms ?? 0) / 1000 });
      continue;
    }
    let stack = open.get(file);
    if (!stack) open.set(file, (stack = []));
    if (type === 'test:dequeue') {
      // a test starts inside the last one still open at a lower nesting
      while (stack.length > data.nesting) stack.pop();
      stack.push({ name: data.name, nesting: data.nesting });
    } else if (type === 'test:complete') {
      const i = stack.findIndex((t) => t.nesting === data.nesting && t.name === data.name);
      const error = data.details?.error;
      if (error?.failureType === 'testTimeoutFailure') {
        const seconds = (data.details?.duration_ms ?? 0) / 1000;
        const running = i >= 0 ? stack : [...stack, { name: data.name, nesting: data.nesting }];
        yield `\n${file}: stopped after ${seconds.toFixed(0)} s (${error.message ?? error.failureType}): ${pathOf(running)}\n`;
      }
      // A test cancelled because its suite timed out ends first: it stays, to be named with the suite.
      if (i >= 0 && error?.failureType !== 'cancelledByParent') stack.splice(i);
    }
  }
  const out = process.env.VIGIL_TEST_TIMES_FILE;
  if (!out || files.length === 0) return;
  const slowest = files.sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST);
  const total = files.reduce((s, f) => s + f.seconds, 0);
  writeFileSync(out, `slowest test files (of ${files.length}, ${(total / 60).toFixed(1)} min in all):\n${slowest.map((f) => `  ${f.seconds.toFixed(0).padStart(5)} s  ${f.file}`).join('\n')}\n`);
}
