import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiContact } from './contact.ts';

void test('contact: answering again is dated from the first answer after failures, and unknown while failing', () => {
  let now = 1000;
  const c = new ApiContact(() => now);
  c.answered();
  assert.equal(c.answeringAgainSince(), undefined, 'no outage seen');
  c.failed();
  now = 2000;
  c.failed();
  assert.equal(c.answeringAgainSince(), undefined, 'failing now');
  now = 9000;
  c.answered();
  now = 9500;
  c.answered();
  assert.equal(c.answeringAgainSince(), 9000);
});
