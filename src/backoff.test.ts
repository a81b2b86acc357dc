import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';

void test('doubles from the first delay up to the cap, and starts over after a success', () => {
  const b = new Backoff(1000, 8000);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 8000]);
  b.reset();
  assert.equal(b.next(), 1000);
  assert.deepEqual([new Backoff(5000, 1000).next(), new Backoff(5000, 1000).next()], [5000, 5000], 'a cap below the first delay is the first delay');
});
