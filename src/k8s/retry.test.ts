import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext, ResponseContext, HttpMethod } from '@kubernetes/client-node';
import { MAX_RETRIES, RetryingHttpLibrary, retryAfterMs } from './retry.ts';

void test('the answers that ask to be retried: 429 and 5xx with Retry-After in seconds, as client-go reads them', () => {
  assert.equal(retryAfterMs(429, { 'retry-after': '1' }), 1000);
  assert.equal(retryAfterMs(503, { 'retry-after': '3' }), 3000);
  assert.equal(retryAfterMs(429, {}), undefined, 'no Retry-After: a failure to report');
  assert.equal(retryAfterMs(500, {}), undefined, 'a 500 without Retry-After is not hidden');
  assert.equal(retryAfterMs(409, { 'retry-after': '1' }), undefined, 'only 429 and 5xx');
  assert.equal(retryAfterMs(429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }), undefined, 'the server sends seconds; a date is not read');
  assert.equal(retryAfterMs(429, { 'retry-after': '600' }), 10_000, 'one wait is capped');
});

const answer = (status: number, body: string, headers: Record<string, string> = {}) => new ResponseContext(status, headers, { text: () => Promise.resolve(body), binary: () => Promise.resolve(Buffer.from(body)) });

function library(answers: ResponseContext[]) {
  const sent: string[] = [];
  const waits: number[] = [];
  const lib = new RetryingHttpLibrary(
    {
      send: (r) => {
        sent.push(`${r.getHttpMethod()} ${r.getUrl()} ${r.getBody() as string}`);
        return Promise.resolve(answers.shift() ?? answer(200, '{}'));
      },
    },
    {
      pause: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  );
  return { lib, sent, waits };
}

void test('a 429 with Retry-After is waited out and the same request sent again; the answer that ends it is returned', async () => {
  const { lib, sent, waits } = library([answer(429, 'storage is (re)initializing', { 'retry-after': '1' }), answer(429, 'again', { 'retry-after': '2' }), answer(201, '{"ok":true}')]);
  const req = new RequestContext('http://api/api/v1/namespaces/vigil/pods', HttpMethod.POST);
  req.setBody('{"kind":"Pod"}');
  const res = await lib.send(req);
  assert.equal(res.httpStatusCode, 201);
  assert.equal(await res.body.text(), '{"ok":true}');
  assert.deepEqual(waits, [1000, 2000]);
  assert.deepEqual(sent, Array(3).fill('POST http://api/api/v1/namespaces/vigil/pods {"kind":"Pod"}'), 'the same request, body included');
});

void test('retries are bounded: after MAX_RETRIES the last 429 is returned, its body readable', async () => {
  const { lib, sent } = library(Array.from({ length: MAX_RETRIES + 5 }, (_, i) => answer(429, `busy ${i}`, { 'retry-after': '1' })));
  const res = await lib.send(new RequestContext('http://api/api/v1/nodes/a', HttpMethod.GET));
  assert.equal(res.httpStatusCode, 429);
  assert.equal(sent.length, MAX_RETRIES + 1);
  assert.equal(await res.body.text(), `busy ${MAX_RETRIES}`);
});

void test("the request's signal ends the wait: the caller gets the 429 it was waiting out, not an abort", async () => {
  const ctl = new AbortController();
  const lib = new RetryingHttpLibrary({ send: () => Promise.resolve(answer(429, 'Too many requests, please try again later.', { 'retry-after': '5' })) });
  const req = new RequestContext('http://api/api/v1/nodes/a', HttpMethod.GET);
  req.setSignal(ctl.signal);
  const pending = lib.send(req);
  setTimeout(() => ctl.abort(), 20);
  const res = await pending;
  assert.equal(res.httpStatusCode, 429);
  assert.equal(await res.body.text(), 'Too many requests, please try again later.');
});

void test('answers that do not ask for a retry are returned at once', async () => {
  const { lib, sent } = library([answer(500, 'etcdserver: request timed out'), answer(200, '{}')]);
  assert.equal((await lib.send(new RequestContext('http://api/api/v1/nodes/a', HttpMethod.GET))).httpStatusCode, 500);
  assert.equal(sent.length, 1);
});
