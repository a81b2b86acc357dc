import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { httpGet } from './http-get.ts';

test('a kept-alive connection the server closes as the request goes out is retried once on a new one', async () => {
  // the first request is answered and its connection kept; the second, on that same connection, is
  // cut without an answer (as when the serving process died); the retry gets a connection of its own
  const connections = new Set<unknown>();
  let requests = 0;
  const server = http.createServer((req, res) => {
    connections.add(req.socket);
    if (++requests === 2) req.socket.destroy();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(`answer ${requests}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const opts = { agent, maxBytes: 1024, signal: new AbortController().signal };
    assert.deepEqual(await httpGet(url, opts), { status: 200, body: 'answer 1' });
    assert.deepEqual(await httpGet(url, opts), { status: 200, body: 'answer 3' });
    assert.equal(requests, 3);
    assert.equal(connections.size, 2, 'the retry came on a new connection');
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a new connection that is reset is not retried: the error is the answer', async () => {
  let requests = 0;
  const server = http.createServer((req) => {
    requests++;
    req.socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await assert.rejects(httpGet(url, { maxBytes: 1024, signal: new AbortController().signal }), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
    assert.equal(requests, 1);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
