import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { Registry } from 'prom-client';
import { HistoryStore } from '../src/history/store.ts';
import { silentLogger } from '../src/log.ts';
import { createApp } from '../src/server/app.ts';
import { requestGuards } from '../src/server/guards.ts';
import { DEFAULT_LIMITS } from '../src/config/limits.ts';
import { listenAddress } from '../src/config/fields.ts';
import { serve } from '../src/server/listen.ts';
import { LocalStatus } from '../src/status/local.ts';
import { parseRaw, rawExchange } from './support/raw-http.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';

void describe('limits against slow, greedy and hostile clients', () => {
  let agent: LocalAgent;
  before(async () => {
    agent = await startLocalAgent(`web:
  limits:
    maxConnections: 20
    maxHeaderBytes: 4096
    maxRequestBodyBytes: 1024
    headerTimeout: 1s
    requestTimeout: 2s
    idleTimeout: 1s
`);
  });
  after(async () => agent?.dispose());

  const healthy = async () => (await fetch(`${agent.url}/healthz`)).status === 200;

  void test('a client that sends its headers slowly (slowloris) is cut off with 408', async () => {
    const socket = net.connect({ port: agent.port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.write('X-Slow: a\r\n'), 200);
    const closedAfter = await new Promise<number>((resolve) => {
      const t = Date.now();
      socket.on('close', () => resolve(Date.now() - t));
    });
    clearInterval(drip);
    const r = parseRaw(Buffer.concat(chunks).toString('latin1'));
    assert.equal(r.status, 408);
    assert.deepEqual(r.body, { error: 'request not received in time' });
    assert.ok(closedAfter < 15_000, `closed after ${closedAfter} ms`);
    assert.ok(await healthy());
  });

  void test('oversized headers get 431 with a JSON error', async () => {
    const r = await rawExchange(agent.port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    assert.deepEqual(parseRaw(r.text), { status: 431, body: { error: 'request headers too large' } });
    assert.ok(await healthy());
  });

  void test('binary garbage gets 400 with a JSON error', async () => {
    const r = await rawExchange(agent.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
    assert.deepEqual(parseRaw(r.text), { status: 400, body: { error: 'malformed HTTP request' } });
    assert.ok(await healthy());
  });

  void test('a declared body over the limit gets 413 before it is read', async () => {
    const res = await fetch(`${agent.url}/api/v1/status/local`, { method: 'POST', body: 'x'.repeat(4096) });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { error: 'request body too large: 4096 bytes, limit 1024' });
  });

  void test('connections beyond the cap are closed; the agent answers once they go', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect({ port: agent.port, host: '127.0.0.1' }, () => resolve(s));
            s.on('error', () => {});
          }),
      ),
    );
    // Told apart by what the server did, not by a timer racing its accept loop: one beyond the cap
    // is closed at once, unanswered; one it took waits for a request and is closed by the header
    // timeout with a 408. So every connection closes; the unanswered ones were refused.
    const unanswered = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve, reject) => {
            let bytes = 0;
            s.on('data', (c: Buffer) => (bytes += c.length));
            const timer = setTimeout(() => reject(new Error(`a connection still open after 30 s (${bytes} bytes received)`)), 30_000);
            const done = () => {
              clearTimeout(timer);
              resolve(bytes === 0);
            };
            if (s.destroyed) done();
            else s.once('close', done);
          }),
      ),
    );
    const refused = unanswered.filter(Boolean).length;
    assert.ok(refused >= 20, `${refused} of 40 connections closed unanswered`);
    for (const s of sockets) s.destroy();
    const deadline = Date.now() + 10_000;
    while (!(await healthy().catch(() => false))) {
      assert.ok(Date.now() < deadline, 'the agent did not answer after the connections closed');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});

void test('requests beyond the concurrency cap get 503 with Retry-After; liveness still answers', async () => {
  const history = new HistoryStore(':memory:');
  const hold: (() => void)[] = [];
  const slow = express.Router().get('/slow', (_req, res) => {
    hold.push(() => res.json({ ok: true }));
  });
  const limits = { ...DEFAULT_LIMITS, maxConcurrentRequests: 3 };
  const app = createApp({
    node: 'n',
    registry: new Registry(),
    history,
    logger: silentLogger(),
    now: () => Date.now(),
    ready: () => true,
    status: new LocalStatus({ node: 'n', probes: [], now: () => Date.now() }),
    guards: requestGuards({ limits }),
    routers: [slow],
  });
  const server = await serve({ app, listenAddress: listenAddress.parse('127.0.0.1:0'), limits, logger: silentLogger() });
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    const held = Array.from({ length: 3 }, () => fetch(`${base}/slow`));
    while (hold.length < 3) await new Promise((r) => setTimeout(r, 10));
    const refused = await fetch(`${base}/slow`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.deepEqual(await refused.json(), { error: 'too many requests in progress (limit 3); retry shortly' });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    for (const release of hold) release();
    for (const r of await Promise.all(held)) assert.equal(r.status, 200);
    assert.equal((await fetch(`${base}/api/v1/status/local`)).status, 200);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    history.close();
  }
});
