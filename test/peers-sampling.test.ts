import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { waitFor } from './support/peer-agents.ts';
import { startTestAgent } from './support/in-process.ts';
import { startResponders } from './support/responders.ts';

const names = Array.from({ length: 200 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
const K = 10;
const INTERVAL_MS = 500;

void describe('an agent among 200 peers', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  before(async () => {
    sim = await startResponders(names);
    agent = await startTestAgent('node-self', {
      probes: { node: { enabled: false } },
      peers: { discovery: ['static'], static: names.map((n) => ({ node: n, pod: `127.0.0.1:${sim.responders.get(n)!.port}` })), k: K, interval: `${INTERVAL_MS}ms`, timeout: '400ms' },
    });
  });
  after(async () => {
    await agent?.stop();
    await sim?.close();
  });

  void it('pings at most k peers per interval and exports O(k) peer series', async () => {
    const started = Date.now();
    await waitFor('three rounds', () => Promise.resolve([...sim.responders.values()].reduce((n, r) => n + r.hits.length, 0) >= 3 * K ? true : undefined));
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
    const elapsed = Date.now() - started;
    const pinged = [...sim.responders.values()].filter((r) => r.hits.length > 0);
    const pings = pinged.reduce((n, r) => n + r.hits.length, 0);
    assert.equal(pinged.length, K, 'the same k peers every round');
    // rounds start every interval ±10 %, the first within the first tenth of one
    const rounds = Math.floor(elapsed / (INTERVAL_MS * 0.9)) + 1;
    assert.ok(pings <= K * rounds, `${pings} pings in ${elapsed} ms`);
    assert.deepEqual(pinged.map((r) => r.node).sort(), agent.peers.mesh!.targets());

    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    const up = metrics.split('\n').filter((l) => l.startsWith('vigil_peer_up{'));
    assert.equal(up.length, K);
    assert.ok(up.every((l) => l.endsWith(' 1')));
    assert.equal(metrics.split('\n').filter((l) => l.startsWith('vigil_peer_clock_offset_seconds{')).length, K);
    assert.match(metrics, /^vigil_peers_known 200$/m);
    assert.match(metrics, /^vigil_peers_probed 10$/m);
    const local = (await (await fetch(`${agent.url}/api/v1/status/local`)).json()) as LocalStatusWithPeers;
    assert.equal(local.peers.length, K);
  });

  void it('drops the series of peers it no longer pings', async () => {
    const before = agent.peers.mesh!.targets();
    const keep = names.filter((n) => n !== before[0]);
    agent.peers.directory.set('static', keep.map((n) => ({ node: n, podIP: '127.0.0.1', podPort: sim.responders.get(n)!.port })));
    await agent.peers.mesh!.round(AbortSignal.timeout(30_000));
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.doesNotMatch(metrics, new RegExp(`peer_node="${before[0]}"`));
    assert.equal(metrics.split('\n').filter((l) => l.startsWith('vigil_peer_up{')).length, K);
    assert.match(metrics, /^vigil_peers_known 199$/m);
  });

  void it('fans the cluster status out to every known peer', async () => {
    const s = (await (await fetch(`${agent.url}/api/v1/status`)).json()) as ClusterStatus;
    assert.equal(s.nodes.length, 200);
    assert.ok(s.nodes.every((n) => n.answered), JSON.stringify(s.nodes.filter((n) => !n.answered).slice(0, 3)));
    assert.equal(s.verdict, 'healthy');
  });
});
