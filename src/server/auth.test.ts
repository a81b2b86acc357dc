import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { BasicAuth, parseBasicAuth } from './auth.ts';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

void test('parseBasicAuth reads user and password, the password may hold colons', () => {
  assert.deepEqual(parseBasicAuth(basic('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
  assert.deepEqual(parseBasicAuth(basic('ünï:☃')), { user: 'ünï', password: '☃' });
  assert.equal(parseBasicAuth(undefined), undefined);
  assert.equal(parseBasicAuth('Bearer abc'), undefined);
  assert.equal(parseBasicAuth(basic('no-colon')), undefined);
  assert.equal(parseBasicAuth('Basic !!!'), undefined);
  assert.equal(parseBasicAuth(`Basic ${'A'.repeat(5000)}`), undefined);
});

const hash = bcrypt.hashSync('s3cret', 4);
const users = new Map([['prometheus', hash]]);

function counting() {
  let calls = 0;
  const compare = (p: string, h: string) => {
    calls++;
    return bcrypt.compare(p, h);
  };
  return { compare, calls: () => calls };
}

void test('a successful check is remembered: repeated scrapes cost one bcrypt', async () => {
  const c = counting();
  const auth = new BasicAuth({ compare: c.compare });
  for (let i = 0; i < 5; i++) assert.equal(await auth.verify(users, 'prometheus', 's3cret'), true);
  assert.equal(c.calls(), 1);
});

void test('failures are not remembered, and an unknown user still costs a bcrypt', async () => {
  const c = counting();
  const auth = new BasicAuth({ compare: c.compare });
  assert.equal(await auth.verify(users, 'prometheus', 'wrong'), false);
  assert.equal(await auth.verify(users, 'prometheus', 'wrong'), false);
  assert.equal(await auth.verify(users, 'mallory', 's3cret'), false);
  assert.equal(c.calls(), 3);
});

void test('checks of the same credentials arriving together share one bcrypt run', async () => {
  const c = counting();
  const auth = new BasicAuth({ compare: c.compare });
  const results = await Promise.all(Array.from({ length: 20 }, () => auth.verify(users, 'prometheus', 's3cret')));
  assert.ok(results.every(Boolean));
  assert.equal(c.calls(), 1);
});

void test('a changed hash misses the cache, so the old password stops working', async () => {
  const auth = new BasicAuth();
  assert.equal(await auth.verify(users, 'prometheus', 's3cret'), true);
  const rotated = new Map([['prometheus', bcrypt.hashSync('n3w', 4)]]);
  assert.equal(await auth.verify(rotated, 'prometheus', 's3cret'), false);
  assert.equal(await auth.verify(rotated, 'prometheus', 'n3w'), true);
});

void test('the cache is bounded', async () => {
  const many = new Map(Array.from({ length: 5 }, (_, i) => [`u${i}`, bcrypt.hashSync(`p${i}`, 4)] as const));
  const c = counting();
  const auth = new BasicAuth({ cacheSize: 2, compare: c.compare });
  for (let i = 0; i < 5; i++) await auth.verify(many, `u${i}`, `p${i}`);
  assert.equal(c.calls(), 5);
  await auth.verify(many, 'u4', 'p4'); // recent: cached
  assert.equal(c.calls(), 5);
  await auth.verify(many, 'u0', 'p0'); // evicted
  assert.equal(c.calls(), 6);
});
