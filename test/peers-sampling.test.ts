import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { waitFor } from './support/peer-agents.ts';
import { startTestAgent } from './support/in-process.ts';
import { startResponders } from './support/responders.ts';

const names = Array.from({ length: 200 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
const K = 10;
const INTERVAL_MS = 1000;

void describe('an agent among 200 peers', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  before(async () => {
    sim = await startResponders(names);
    agent = await startTestAgent('node-self', {
      probes: { node: { enabled: false } },
      peers: { discovery: ['static'], static: names.map((n) => ({ node: n, pod: `127.0.0.1:${sim.responders.get(n)!.port}` })), k: K, interval: `${INTERVAL_MS}ms`, timeout: '900ms' },
    });
  });
  after(async () => {
    await agent?.stop();
    await sim?.close();
  });

  void it('pings at most k peers per interval and exports O(k) peer series', async () => {
    const hits = () => [...sim.responders.values()].reduce((n, r) => n + r.hits.length, 0);
    const rounds = async () => Number(/^vigil_probe_runs_total\{probe="peer-mesh"\} (\d+)$/m.exec(await (await fetch(`${agent.url}/metrics`)).text())?.[1] ?? NaN);
    await waitFor('three rounds', () => Promise.resolve(hits() >= 3 * K ? true : undefined));
    // Counted in the agent's own rounds, not in seconds: a busy machine starts rounds late, never more often.
    const [hits0, rounds0] = [hits(), await rounds()];
    await waitFor('two more rounds', async () => ((await rounds()) >= rounds0 + 2 ? true : undefined));
    const [pings, done] = [hits() - hits0, (await rounds()) - rounds0];
    const pinged = [...sim.responders.values()].filter((r) => r.hits.length > 0);
    assert.equal(pinged.length, K, 'the same k peers every round');
    // the rounds finished in the window, and the one under way when it opened
    assert.ok(pings <= K * (done + 1), `${pings} pings in ${done} rounds`);
    assert.ok(pings >= K * (done - 1), `${pings} pings in ${done} rounds: every round pings its k peers`);
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
    agent.peers.directory.set(
      'static',
      keep.map((n) => ({ node: n, podIP: '127.0.0.1', podPort: sim.responders.get(n)!.port })),
    );
    await agent.peers.mesh!.round(AbortSignal.timeout(30_000));
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.doesNotMatch(metrics, new RegExp(`peer_node="${before[0]}"`));
    assert.equal(metrics.split('\n').filter((l) => l.startsWith('vigil_peer_up{')).length, K);
    assert.match(metrics, /^vigil_peers_known 199$/m);
  });

  void it('fans the cluster status out to every known peer', async () => {
    // On a busy machine one of 200 answers can miss the deadline; an answer from every peer comes.
    let last: ClusterStatus | undefined;
    const s = await waitFor('every peer answering', async () => {
      last = (await (await fetch(`${agent.url}/api/v1/status`)).json()) as ClusterStatus;
      return last.nodes.every((n) => n.answered) ? last : undefined;
    }).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last?.nodes.filter((n) => !n.answered).slice(0, 3))}`));
    assert.equal(s.nodes.length, 200);
    assert.equal(s.verdict, 'healthy');
  });
});
