import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failingChecks, parseHealthOutput } from './healthz.ts';

void test('verbose /readyz output: checks, their state and the closing verdict', () => {
  const text = [
    '[+]ping ok',
    '[+]log ok',
    '[-]etcd failed: reason withheld',
    '[+]poststarthook/start-apiserver-admission-initializer ok',
    '[-]informer-sync failed: reason withheld',
    '[+]shutdown excluded: ok',
    'readyz check failed',
    '',
  ].join('\n');
  const r = parseHealthOutput(text);
  assert.equal(r.passed, false);
  assert.equal(r.checks.length, 6);
  assert.deepEqual(r.checks[2], { name: 'etcd', ok: false, detail: 'failed: reason withheld' });
  assert.deepEqual(failingChecks(r), ['etcd', 'informer-sync']);
});

void test('a passing report, and a plain "ok" body with no checks', () => {
  const r = parseHealthOutput('[+]ping ok\n[+]etcd ok\nlivez check passed\n');
  assert.deepEqual([r.passed, failingChecks(r)], [true, []]);
  assert.deepEqual(parseHealthOutput('ok'), { checks: [] });
});
