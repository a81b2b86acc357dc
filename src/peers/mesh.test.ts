import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HistoryStore } from '../history/store.ts';
import { silentLogger } from '../log.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { PeerClient, type PeerTransport } from './client.ts';
import { PeerDirectory } from './directory.ts';
import { PeerMesh } from './mesh.ts';
import type { PeerTransition } from './transitions.ts';

/** A transport whose answers the test releases by hand; it records every request. */
function heldTransport(clock: FakeClock, ignoreAbort: boolean) {
  const requests: string[] = [];
  const pending: (() => void)[] = [];
  const transport: PeerTransport = {
    get: (url, { signal }) =>
      new Promise((resolve, reject) => {
        requests.push(url);
        const node = /:(\d+)$/.exec(new URL(url).host)![1]!;
        if (!ignoreAbort) signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        pending.push(() => resolve({ status: 200, body: JSON.stringify({ node: `n${Number(node) - 20000}`, time: clock.now() }) }));
      }),
  };
  return { transport, requests, release: () => pending.splice(0).forEach((f) => f()) };
}

function setup(peers: number, ignoreAbort = false) {
  const clock = new FakeClock();
  const store = new HistoryStore(':memory:');
  const directory = new PeerDirectory({ self: 'me', store, now: () => clock.now(), logger: silentLogger(), sources: ['static'] });
  directory.set('static', Array.from({ length: peers }, (_, i) => ({ node: `n${i}`, podIP: '127.0.0.1', podPort: 20000 + i })));
  const held = heldTransport(clock, ignoreAbort);
  const metrics = createMetrics(new Registry(), { defaultMetrics: false });
  const transitions: PeerTransition[] = [];
  const mesh = new PeerMesh({ self: 'me', directory, client: new PeerClient({ transport: held.transport, maxBytes: 4096, clock }), clock, metrics, logger: silentLogger(), k: 3, interval: 1000, timeout: 500, podPort: 10924, random: () => 0.5, onTransition: (t) => transitions.push(t) });
  return { clock, store, mesh, held, metrics, transitions };
}

void describe('PeerMesh', () => {
  void it('pings its k targets once per interval', async () => {
    const { clock, mesh, held, store } = setup(20);
    mesh.start();
    for (let round = 1; round <= 3; round++) {
      await clock.advance(1000);
      assert.equal(held.requests.length, 3 * round);
      held.release();
    }
    assert.equal(new Set(held.requests.map((u) => new URL(u).port)).size, 3);
    await mesh.stop();
    store.close();
  });

  void it('a wedged connection costs one timeout, not the mesh', async () => {
    const { clock, mesh, held, store } = setup(20, true); // a transport that ignores aborts
    mesh.start();
    await clock.advance(1000);
    assert.equal(held.requests.length, 3);
    await clock.advance(1000);
    assert.equal(held.requests.length, 6, 'the next round ran');
    assert.ok(mesh.observations().every((o) => !o.up && o.failure === 'timeout'));
    held.release();
    await mesh.stop();
    store.close();
  });

  void it('reports a peer that does not answer within the timeout as down, then up again, and says so to the history', async () => {
    const { clock, mesh, held, metrics, store, transitions } = setup(2);
    const t0 = clock.now();
    const round = mesh.round();
    await clock.advance(500);
    await round;
    assert.deepEqual(mesh.observations().map((o) => [o.peer, o.up, o.failure, o.error]), [
      ['n0', false, 'timeout', 'timeout after 500 ms'],
      ['n1', false, 'timeout', 'timeout after 500 ms'],
    ]);
    assert.match(await metrics.registry.getSingleMetricAsString('vigil_peer_up'), /vigil_peer_up\{peer_node="n0",network="pod"\} 0/);
    assert.match(await metrics.registry.getSingleMetricAsString('vigil_peer_failure'), /vigil_peer_failure\{peer_node="n0",network="pod",kind="timeout"\} 1/);
    const since = mesh.observations()[0]!.since;
    await clock.advance(1000);
    const again = mesh.round();
    held.release();
    await again;
    const o = mesh.observations()[0]!;
    assert.equal(o.up, true);
    assert.notEqual(o.since, since);
    assert.equal(o.clockOffsetSeconds, 0);
    assert.match(await metrics.registry.getSingleMetricAsString('vigil_peer_up'), /vigil_peer_up\{peer_node="n0",network="pod"\} 1/);
    assert.doesNotMatch(await metrics.registry.getSingleMetricAsString('vigil_peer_failure'), /peer_node="n0"/, 'a link that answers again has no failure series');
    assert.match(await metrics.registry.getSingleMetricAsString('vigil_peers_probed'), /vigil_peers_probed 2/);
    assert.deepEqual(
      transitions.filter((t) => t.probe === 'peer/n0/pod').map((t) => [t.time - t0, t.from, t.to, t.reason, t.message]),
      [
        [500, 'unknown', 'down', 'timeout', 'n0 over the pod network unreachable: timeout after 500 ms'],
        [1500, 'down', 'up', null, 'n0 over the pod network reachable again'],
      ],
    );
    await mesh.stop();
    store.close();
  });

  void it('stop() aborts a round in flight', async () => {
    const { mesh, store } = setup(2);
    const round = mesh.round();
    await mesh.stop();
    await round;
    assert.deepEqual(mesh.observations(), []);
    store.close();
  });
});
