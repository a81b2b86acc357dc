import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeEvent } from '../src/status/history-merge.ts';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { freePort, loopbackAddresses, waitFor } from './support/peer-agents.ts';
import { startTestAgent } from './support/in-process.ts';
import { defaultAnswer, startResponders } from './support/responders.ts';

const SKEW_MS = 800;

void describe('cluster history and clock offsets', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  const agents: Awaited<ReturnType<typeof startTestAgent>>[] = [];
  const x = () => agents[0]!;
  const y = () => agents[1]!;

  before(async () => {
    sim = await startResponders(['skewed'], (node, req, res) => {
      if (req.url?.startsWith('/api/v1/ping')) res.writeHead(200).end(JSON.stringify({ node, time: Date.now() + SKEW_MS }));
      else defaultAnswer(node, req, res);
    });
    const ips = loopbackAddresses(2);
    const addrs = [`${ips[0]}:${await freePort(ips[0])}`, `${ips[1]}:${await freePort(ips[1])}`];
    const peers = [
      { node: 'x', pod: addrs[0]! },
      { node: 'y', pod: addrs[1]! },
      { node: 'skewed', pod: `127.0.0.1:${sim.responders.get('skewed')!.port}` },
    ];
    for (const [i, name] of ['x', 'y'].entries()) {
      agents.push(await startTestAgent(name, { web: { listenAddress: addrs[i]! }, probes: { node: { enabled: false } }, peers: { discovery: ['static'], static: peers, interval: '1s', timeout: '800ms' } }));
    }
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 5; i++) {
      x().history.append({ time: t0 + i * 2000, probe: 'etcd', from: 'ok', to: 'critical', reason: 'timeout', message: `x${i}` });
      y().history.append({ time: t0 + i * 2000 + 1000, probe: i % 2 ? 'dns' : 'etcd', from: 'ok', to: 'warning', reason: 'slow', message: `y${i}` });
    }
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await sim?.close();
  });

  const get = async <T>(p: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${x().url}${p}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  void it("merges every node's history, newest first, page by page", async () => {
    const seen: NodeEvent[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; body: { events: NodeEvent[]; next: string | null; errors: unknown[] } } = await get(`/api/v1/history?limit=3&since=2025-12-31T00:00:00Z&until=2026-01-02T00:00:00Z${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.errors, []);
      seen.push(...r.body.events);
      cursor = r.body.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 4);
    assert.deepEqual(
      seen.map((e) => e.message),
      ['y4', 'x4', 'y3', 'x3', 'y2', 'x2', 'y1', 'x1', 'y0', 'x0'],
    );
    assert.deepEqual(seen.map((e) => e.node).slice(0, 2), ['y', 'x']);
  });

  void it('filters by node, probe and time', async () => {
    const onlyY = await get<{ events: NodeEvent[] }>('/api/v1/history?node=y&probe=dns');
    assert.deepEqual(
      onlyY.body.events.map((e) => e.message),
      ['y3', 'y1'],
    );
    const late = await get<{ events: NodeEvent[] }>('/api/v1/history?since=2026-01-01T00:00:06Z&until=2026-01-01T00:00:09Z');
    assert.deepEqual(
      late.body.events.map((e) => e.message),
      ['x4', 'y3', 'x3'],
    );
    const bad = await get<{ error: string }>('/api/v1/history?cursor=nonsense');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /cursor/);
    const unknown = await get<{ error: string }>('/api/v1/history?colour=red');
    assert.equal(unknown.status, 400);
  });

  void it("measures a peer's clock offset and names a clock beyond the threshold", async () => {
    const obs = await waitFor('an observation of the skewed peer', async () => {
      const s = (await (await fetch(`${x().url}/api/v1/status/local`)).json()) as LocalStatusWithPeers;
      return s.peers.find((p) => p.peer === 'skewed' && p.up);
    });
    // the least offset the round trip allows: never beyond the true one, short of it by at most the round trip
    const within = (offset: number, want: number, rtt: number) => Math.abs(offset) <= Math.abs(want) + 0.05 && Math.abs(offset - want) <= rtt + 0.05;
    assert.ok(within(obs.clockOffsetSeconds!, SKEW_MS / 1000, obs.rttSeconds!), `offset ${obs.clockOffsetSeconds}, rtt ${obs.rttSeconds}`);
    const y0 = await waitFor('an observation of y', async () => {
      const s = (await (await fetch(`${x().url}/api/v1/status/local`)).json()) as LocalStatusWithPeers;
      return s.peers.find((p) => p.peer === 'y' && p.up);
    });
    assert.ok(within(y0.clockOffsetSeconds!, 0, y0.rttSeconds!), `offset ${y0.clockOffsetSeconds}, rtt ${y0.rttSeconds}`);
    const metrics = await (await fetch(`${x().url}/metrics`)).text();
    const m = /^vigil_peer_clock_offset_seconds\{peer_node="skewed"\} (\S+)$/m.exec(metrics);
    assert.ok(m && Math.abs(Number(m[1]) - SKEW_MS / 1000) < SKEW_MS / 2000, m?.[0]);
    // named once both observers have measured it (a consensus, not whichever answered first)
    const c = await waitFor('the clock cause', async () => (await get<ClusterStatus>('/api/v1/status')).body.causes.find((k) => k.kind === 'clock-offset'));
    assert.deepEqual(c?.nodes, ['skewed']);
    assert.match(c.message, /ahead/);
  });
});
