import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { startResponders } from '../../test/support/responders.ts';
import { httpTransport, PeerClient, type PeerTransport } from './client.ts';
import type { PeerRecord } from './directory.ts';
import { fanout } from './fanout.ts';

const answer = z.object({ node: z.string() });
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

/** Servers that accept connections and never answer: an agent wedged, or a black-holed path. */
async function silentServers(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = http.createServer(() => undefined);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    ports.push((s.address() as AddressInfo).port);
    closers.push(
      () =>
        new Promise((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    );
  }
  return ports;
}

/** A port nothing listens on: connections are refused. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function responders(names: string[], status = 200) {
  const sim = await startResponders(names, (node, _req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ node })));
  closers.push(() => sim.close());
  return sim;
}

function client(): PeerClient {
  const c = new PeerClient({ transport: httpTransport(), maxBytes: 4096 });
  closers.push(() => Promise.resolve(c.close()));
  return c;
}

void describe('fanout', () => {
  void it('asks the peers behind silent ones: a silent peer gives up its slot and is reported at the deadline', async () => {
    const silent = await silentServers(6);
    const sim = await responders(['ok-0', 'ok-1', 'ok-2', 'ok-3']);
    // the silent peers come first and outnumber the slots
    const peers: PeerRecord[] = [...silent.map((port, i) => ({ node: `silent-${i}`, podIP: '127.0.0.1', podPort: port })), ...[...sim.responders.values()].map((r) => ({ node: r.node, podIP: '127.0.0.1', podPort: r.port }))];
    const got = await fanout(peers, '/x', answer, { client: client(), podPort: 1, concurrency: 2, timeoutMs: 4000, slowMs: 50 });
    for (const r of sim.responders.values()) assert.deepEqual(got.get(r.node), { ok: true, value: { node: r.node } }, r.node);
    for (let i = 0; i < 6; i++) assert.deepEqual(got.get(`silent-${i}`), { ok: false, failure: 'timeout', error: 'no answer within the 4000 ms deadline' });
  });

  void it('tries the host path when the pod path is refused, and takes its answer', async () => {
    const refused = await closedPort();
    const sim = await responders(['refused-pod']);
    const peers: PeerRecord[] = [{ node: 'refused-pod', podIP: '127.0.0.1', podPort: refused, hostIP: '127.0.0.1', hostPort: sim.responders.get('refused-pod')!.port }];
    const got = await fanout(peers, '/x', answer, { client: client(), podPort: 1, hostPort: 1, concurrency: 4, timeoutMs: 20_000, hostDelayMs: 10_000 });
    assert.deepEqual(got.get('refused-pod'), { ok: true, value: { node: 'refused-pod' } });
  });

  void it('tries the host path when the pod path has not connected after the head start', async () => {
    // a black-holed pod path: the connection never comes up (no SYN answered); the host path answers
    const asked: string[] = [];
    const transport: PeerTransport = {
      get: (url, { signal }) =>
        new Promise((resolve, reject) => {
          asked.push(url);
          if (url.includes(':1/')) signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          else resolve({ status: 200, body: JSON.stringify({ node: 'a' }) });
        }),
    };
    const peers: PeerRecord[] = [{ node: 'a', podIP: '198.18.0.1', podPort: 1, hostIP: '198.18.0.2', hostPort: 2 }];
    const got = await fanout(peers, '/x', answer, { client: new PeerClient({ transport, maxBytes: 4096 }), podPort: 1, hostPort: 2, concurrency: 4, timeoutMs: 20_000, hostDelayMs: 50 });
    assert.deepEqual(got.get('a'), { ok: true, value: { node: 'a' } });
    assert.deepEqual(asked, ['http://198.18.0.1:1/x', 'http://198.18.0.2:2/x']);
  });

  void it('leaves the host path alone while the pod path is connected and the agent is slow to answer', async () => {
    const [hung] = await silentServers(1);
    const host = await responders(['a']);
    const peers: PeerRecord[] = [{ node: 'a', podIP: '127.0.0.1', podPort: hung!, hostIP: '127.0.0.1', hostPort: host.responders.get('a')!.port }];
    // a head start a loopback connect always beats, even on a busy machine
    const got = await fanout(peers, '/x', answer, { client: client(), podPort: 1, hostPort: 1, concurrency: 4, timeoutMs: 3000, hostDelayMs: 1000 });
    assert.deepEqual(got.get('a'), { ok: false, failure: 'timeout', error: 'no answer within the 3000 ms deadline' });
    assert.equal(host.responders.get('a')!.hits.length, 0);
  });

  void it('tries the host path when a kept-alive pod connection no longer answers: a reused socket says nothing of the path', async () => {
    // answers the first request, then none on the same connection: an overlay that broke under a
    // connection the agent keeps alive from an earlier fan-out
    let served = 0;
    const pod = http.createServer((_req, res) => {
      if (served++ === 0) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ node: 'a' }));
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => (pod.closeAllConnections(), pod.close(() => resolve()))));
    const host = await responders(['a']);
    const peers: PeerRecord[] = [{ node: 'a', podIP: '127.0.0.1', podPort: (pod.address() as AddressInfo).port, hostIP: '127.0.0.1', hostPort: host.responders.get('a')!.port }];
    const c = client();
    const opts = { client: c, podPort: 1, hostPort: 1, concurrency: 4, timeoutMs: 20_000, hostDelayMs: 50 };
    assert.deepEqual((await fanout(peers, '/x', answer, opts)).get('a'), { ok: true, value: { node: 'a' } });
    assert.equal(host.responders.get('a')!.hits.length, 0, 'the first answer came over the pod path');
    assert.deepEqual((await fanout(peers, '/x', answer, opts)).get('a'), { ok: true, value: { node: 'a' } });
    assert.equal(host.responders.get('a')!.hits.length, 1, 'the second over the host path');
    assert.equal(served, 2, 'over the same pod connection, which stayed silent');
  });

  void it('does not try the host path when the agent answered on the pod path with an error', async () => {
    const pod = await responders(['a'], 401);
    const host = await responders(['a']);
    const peers: PeerRecord[] = [{ node: 'a', podIP: '127.0.0.1', podPort: pod.responders.get('a')!.port, hostIP: '127.0.0.1', hostPort: host.responders.get('a')!.port }];
    const got = await fanout(peers, '/x', answer, { client: client(), podPort: 1, hostPort: 1, concurrency: 4, timeoutMs: 20_000, hostDelayMs: 10_000 });
    assert.deepEqual(got.get('a'), { ok: false, failure: 'http', error: 'HTTP 401 (token refused)' });
    assert.equal(host.responders.get('a')!.hits.length, 0);
  });

  void it('answers peers this agent knows to be down from that knowledge, without asking them', async () => {
    const sim = await responders(['up', 'down']);
    const peers = [...sim.responders.values()].map((r) => ({ node: r.node, podIP: '127.0.0.1', podPort: r.port }));
    const since = '2026-01-01T00:00:00.000Z';
    const got = await fanout(peers, '/x', answer, {
      client: client(),
      podPort: 1,
      concurrency: 4,
      timeoutMs: 20_000,
      knownDown: (n) => (n === 'down' ? { failure: 'timeout', error: 'timeout after 2000 ms', since } : undefined),
    });
    assert.deepEqual(got.get('down'), { ok: false, failure: 'timeout', error: `not asked: down in this agent's pings since ${since} (timeout after 2000 ms)`, asked: false, downSince: since });
    assert.equal(sim.responders.get('down')!.hits.length, 0);
    assert.deepEqual(got.get('up'), { ok: true, value: { node: 'up' } });
  });

  void it('reports the peers it had no time to ask as not asked', async () => {
    const silent = await silentServers(2);
    const sim = await responders(['late']);
    const peers: PeerRecord[] = [...silent.map((port, i) => ({ node: `silent-${i}`, podIP: '127.0.0.1', podPort: port })), { node: 'late', podIP: '127.0.0.1', podPort: sim.responders.get('late')!.port }];
    // two slots, both held by silent peers until the deadline (they never count as slow)
    const got = await fanout(peers, '/x', answer, { client: client(), podPort: 1, concurrency: 2, timeoutMs: 300, slowMs: 60_000 });
    assert.deepEqual(got.get('late'), { ok: false, failure: 'timeout', error: 'not asked: the 300 ms deadline passed first', asked: false });
    assert.equal(sim.responders.get('late')!.hits.length, 0);
  });
});
