import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overranSkips } from './support/probe-schedule.ts';

const skip = (time: string, runningMs: number | undefined, timeoutMs = 800) =>
  JSON.stringify({ level: 'warn', time, probe: 'apiserver', ...(runningMs === undefined ? {} : { runningMs }), timeoutMs, aborted: false, msg: 'previous run still in progress; skipping this one' });

void test('a skip is a fault when the run in progress outlived its timeout, not when it started late and is still within it', () => {
  const since = Date.parse('2026-12-07T16:00:00.000Z');
  const late = skip('2026-12-07T16:18:15.601Z', 581);
  const hung = skip('2026-12-07T16:18:16.601Z', 2400);
  const unknown = skip('2026-12-07T16:18:17.601Z', undefined);
  const before = skip('2026-12-07T15:59:59.000Z', 5000);
  assert.deepEqual(overranSkips([late, hung, unknown, before, '{"msg":"vigil agent started"}'], since), [hung, unknown]);
  assert.deepEqual(overranSkips(['previous run still in progress; skipping this one (not JSON)'], since), ['previous run still in progress; skipping this one (not JSON)'], 'a line it cannot read counts');
});
