import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HistoryStore } from '../history/store.ts';
import { silentLogger } from '../log.ts';
import { createMetrics, peerMeshMetrics } from '../metrics/metrics.ts';
import { peerMeshProbe } from './mesh-probe.ts';
import { ProbeRunner } from '../runner/runner.ts';
import type { CompletedRun } from '../verdict.ts';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { PeerClient, type PeerTransport } from './client.ts';
import { PeerDirectory } from './directory.ts';
import { PeerMesh, boundedOffset } from './mesh.ts';
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
  directory.set(
    'static',
    Array.from({ length: peers }, (_, i) => ({ node: `n${i}`, podIP: '127.0.0.1', podPort: 20000 + i })),
  );
  const held = heldTransport(clock, ignoreAbort);
  const registry = new Registry();
  const transitions: PeerTransition[] = [];
  const mesh = new PeerMesh({
    self: 'me',
    directory,
    client: new PeerClient({ transport: held.transport, maxBytes: 4096, clock }),
    clock,
    metrics: peerMeshMetrics(registry),
    k: 3,
    timeout: 500,
    podPort: 10924,
    onTransition: (t) => transitions.push(t),
  });
  return { clock, store, mesh, held, registry, transitions };
}

/** The mesh scheduled as the agent schedules it: through the runner, as the peer-mesh probe. */
function scheduled(s: ReturnType<typeof setup>, interval = 1000) {
  const runs: CompletedRun[] = [];
  const metrics = createMetrics(s.registry, { defaultMetrics: false });
  const runner = new ProbeRunner({ probes: [{ probe: peerMeshProbe(s.mesh), interval, timeout: 900, reasons: [] }], clock: s.clock, metrics, logger: silentLogger(), random: () => 0.5, onResult: (r) => runs.push(r) });
  return { runner, runs };
}

void describe('PeerMesh', () => {
  void it('runs through the runner: pings its k targets once per interval, with the common probe metrics', async () => {
    const s = setup(20);
    const { runner, runs } = scheduled(s);
    runner.start();
    await s.clock.advance(50); // first run after half of the 10% jitter window
    for (let round = 1; round <= 3; round++) {
      assert.equal(s.held.requests.length, 3 * round);
      s.held.release();
      await s.clock.advance(1000);
    }
    assert.equal(new Set(s.held.requests.map((u) => new URL(u).port)).size, 3);
    assert.equal(runs[0]!.probe, 'peer-mesh');
    assert.deepEqual(runs[0]!.result, { verdict: 'ok', message: 'pinged 3 peer(s), all answered', observations: { 'peers pinged': 3, 'peers not answering': 0 } });
    const text = await s.registry.metrics();
    assert.match(text, /^vigil_probe_runs_total\{probe="peer-mesh"\} 3$/m);
    assert.match(text, /^vigil_probe_interval_seconds\{probe="peer-mesh"\} 1$/m);
    const stopped = runner.stop(1000);
    await s.clock.advance(1000);
    await stopped;
    s.store.close();
  });

  void it("a wedged connection costs one ping timeout, not the mesh; a peer down is not this node's failure", async () => {
    const s = setup(20, true); // a transport that ignores aborts
    const { runner, runs } = scheduled(s);
    runner.start();
    await s.clock.advance(50);
    assert.equal(s.held.requests.length, 3);
    await s.clock.advance(1000);
    assert.equal(s.held.requests.length, 6, 'the next round ran');
    assert.ok(s.mesh.observations().every((o) => !o.up && o.failure === 'timeout'));
    assert.equal(runs[0]!.result.verdict, 'ok');
    assert.match(runs[0]!.result.message, /^pinged 3 peer\(s\); not answering: n\d+ \(pod: timeout\), n\d+ \(pod: timeout\), n\d+ \(pod: timeout\)$/);
    s.held.release();
    const stopped = runner.stop(1000);
    await s.clock.advance(1000);
    await stopped;
    s.store.close();
  });

  void it('a slow ping never reads as a clock off: the offset is the least the round trip allows', async () => {
    assert.equal(boundedOffset(5000, 5), 4995, 'a clock 5 s ahead over a quick ping stays 5 s ahead');
    assert.equal(boundedOffset(-5000, 5), -4995);
    assert.equal(boundedOffset(400, 350), 50);
    assert.equal(boundedOffset(-350, 350), 0, 'within half the round trip: no offset can be told');
    assert.equal(boundedOffset(120, 350), 0);
    // A peer with the same clock answers at once, and its answer sits 400 ms before this agent
    // reads it (its event loop starved): the midpoint says the peer is 200 ms behind; the bound, not at all.
    const clock = new FakeClock();
    const store = new HistoryStore(':memory:');
    const directory = new PeerDirectory({ self: 'me', store, now: () => clock.now(), logger: silentLogger(), sources: ['static'] });
    directory.set('static', [{ node: 'n0', podIP: '127.0.0.1', podPort: 20000 }]);
    const transport: PeerTransport = {
      get: () => {
        const time = clock.now();
        return new Promise((resolve) => clock.setTimeout(() => resolve({ status: 200, body: JSON.stringify({ node: 'n0', time }) }), 400));
      },
    };
    const registry = new Registry();
    const mesh = new PeerMesh({ self: 'me', directory, client: new PeerClient({ transport, maxBytes: 4096, clock }), clock, monotonic: () => clock.now(), metrics: peerMeshMetrics(registry), k: 3, timeout: 500, podPort: 10924 });
    const round = mesh.round(new AbortController().signal);
    await clock.advance(400);
    await round;
    assert.equal(mesh.observations()[0]!.rttSeconds, 0.4);
    assert.equal(mesh.observations()[0]!.clockOffsetSeconds, 0);
    assert.match(await registry.getSingleMetricAsString('vigil_peer_clock_offset_seconds'), /vigil_peer_clock_offset_seconds\{peer_node="n0"\} 0$/m);
    store.close();
  });

  void it('reports a peer that does not answer within the timeout as down, then up again, and says so to the history', async () => {
    const { clock, mesh, held, registry, store, transitions } = setup(2);
    const t0 = clock.now();
    const round = mesh.round(new AbortController().signal);
    await clock.advance(500);
    await round;
    assert.deepEqual(
      mesh.observations().map((o) => [o.peer, o.up, o.failure, o.error]),
      [
        ['n0', false, 'timeout', 'timeout after 500 ms'],
        ['n1', false, 'timeout', 'timeout after 500 ms'],
      ],
    );
    assert.match(await registry.getSingleMetricAsString('vigil_peer_up'), /vigil_peer_up\{peer_node="n0",network="pod"\} 0/);
    assert.match(await registry.getSingleMetricAsString('vigil_peer_failure'), /vigil_peer_failure\{peer_node="n0",network="pod",kind="timeout"\} 1/);
    const since = mesh.observations()[0]!.since;
    await clock.advance(1000);
    const again = mesh.round(new AbortController().signal);
    held.release();
    await again;
    const o = mesh.observations()[0]!;
    assert.equal(o.up, true);
    assert.notEqual(o.since, since);
    assert.equal(o.clockOffsetSeconds, 0);
    assert.match(await registry.getSingleMetricAsString('vigil_peer_up'), /vigil_peer_up\{peer_node="n0",network="pod"\} 1/);
    assert.doesNotMatch(await registry.getSingleMetricAsString('vigil_peer_failure'), /peer_node="n0"/, 'a link that answers again has no failure series');
    assert.match(await registry.getSingleMetricAsString('vigil_peers_probed'), /vigil_peers_probed 2/);
    assert.deepEqual(
      transitions.filter((t) => t.probe === 'peer/n0/pod').map((t) => [t.time - t0, t.from, t.to, t.reason, t.message]),
      [
        [500, 'unknown', 'down', 'timeout', 'n0 over the pod network unreachable: timeout after 500 ms'],
        [1500, 'down', 'up', null, 'n0 over the pod network reachable again'],
      ],
    );
    store.close();
  });

  void it('a round aborted by the runner (timeout or shutdown) records nothing', async () => {
    const { mesh, store } = setup(2);
    const abort = new AbortController();
    const round = mesh.round(abort.signal);
    abort.abort(new DOMException('agent shutting down', 'AbortError'));
    await round;
    assert.deepEqual(mesh.observations(), []);
    store.close();
  });

  void it('with no peer known, a run is skipped: neither success nor failure', async () => {
    const s = setup(0);
    const r = await peerMeshProbe(s.mesh).run(new AbortController().signal);
    assert.deepEqual(r, { verdict: 'ok', skipped: true, message: 'no peer known yet: nothing to ping' });
    s.store.close();
  });
});
