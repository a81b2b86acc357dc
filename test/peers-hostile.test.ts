import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { waitFor } from './support/peer-agents.ts';
import { startTestAgent } from './support/in-process.ts';
import { defaultAnswer, startResponders } from './support/responders.ts';

const hostile: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  garbage: (_req, res) => res.writeHead(200).end('<html>not json'),
  huge: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < 200 && res.write(chunk)) sent++;
      if (sent < 200) res.once('drain', pump);
      else res.end();
    };
    res.write('{"node":"');
    pump();
  },
  'wrong-shape': (_req, res) => res.writeHead(200).end(JSON.stringify({ node: 42, time: 'soon', __proto__: { polluted: true } })),
  hang: () => undefined,
  liar: (_req, res) => res.writeHead(200).end(JSON.stringify({ node: 'someone-else', time: Date.now() })),
  'bad-status': (req, res) => {
    if (req.url?.startsWith('/api/v1/ping')) {
      defaultAnswer('bad-status', req, res);
      return;
    }
    res.writeHead(200).end(JSON.stringify({ node: 'bad-status', verdict: 'splendid', time: 1, probes: 'many', peers: [{ constructor: { prototype: 1 } }] }));
  },
  denied: (_req, res) => res.writeHead(401).end('{"error":"no"}'),
};

void describe('hostile and broken peers', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  before(async () => {
    sim = await startResponders(['fine', ...Object.keys(hostile)], (node, req, res) => (hostile[node] ?? ((q, r) => defaultAnswer(node, q, r)))(req, res));
    agent = await startTestAgent('self', {
      probes: { node: { enabled: false } },
      peers: {
        discovery: ['static'],
        static: [...sim.responders.values()].map((r) => ({ node: r.node, pod: `127.0.0.1:${r.port}` })),
        // Long enough that a well-behaved peer on a busy machine answers in time.
        interval: '2s',
        timeout: '1500ms',
        fanout: { timeout: '1500ms' },
        maxResponseBytes: 65536,
      },
    });
  });
  after(async () => {
    await agent?.stop();
    await sim?.close();
  });

  void it('marks each bad peer down with what was wrong, and keeps running', async () => {
    const s = await waitFor('every peer observed', async () => {
      const st = (await (await fetch(`${agent.url}/api/v1/status/local`)).json()) as LocalStatusWithPeers;
      // every peer observed, the well-behaved ones up (a busy machine may have timed one out once)
      const up = (n: string) => st.peers.find((p) => p.peer === n)?.up === true;
      return st.peers.length === sim.responders.size && up('fine') && up('bad-status') ? st : undefined;
    });
    const by = Object.fromEntries(s.peers.map((p) => [p.peer, p]));
    assert.equal(by.fine!.up, true);
    for (const n of Object.keys(hostile).filter((n) => n !== 'bad-status')) assert.equal(by[n]!.up, false, n);
    assert.equal(by['bad-status']!.up, true);
    assert.match(by.garbage!.error!, /not JSON/);
    assert.match(by.huge!.error!, /larger than 65536 bytes/);
    assert.match(by['wrong-shape']!.error!, /malformed answer: node/);
    assert.match(by.hang!.error!, /timeout after 1500 ms/);
    assert.match(by.liar!.error!, /answered as node "someone-else"/);
    assert.match(by.denied!.error!, /HTTP 401/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  });

  void it('the cluster status names them unknown, not down, and still answers', async () => {
    // An answer in which the peers this agent's pings find up were asked and answered (a peer its
    // last ping timed out on is answered from that knowledge instead: that is the fan-out's own
    // test; and on a busy machine an asked peer can miss the fan-out's deadline once).
    let last: ClusterStatus | undefined;
    const s = await waitFor(
      "a cluster status with fine answering and bad-status's answer refused",
      async () => {
        last = (await (await fetch(`${agent.url}/api/v1/status`)).json()) as ClusterStatus;
        const node = (n: string) => last!.nodes.find((x) => x.name === n);
        return node('fine')?.answered === true && /malformed answer/.test(node('bad-status')?.error ?? '') ? last : undefined;
      },
      30_000,
    ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last?.nodes.filter((n) => ['fine', 'bad-status'].includes(n.name)))}`));
    const by = Object.fromEntries(s.nodes.map((n) => [n.name, n]));
    assert.equal(by.fine!.answered, true);
    assert.equal(by['bad-status']!.answered, false);
    assert.match(by['bad-status']!.error!, /malformed answer/);
    assert.match(by.huge!.error!, /larger than/);
    assert.ok(!s.causes.some((c) => c.kind === 'node-down' && c.nodes.includes('garbage')), JSON.stringify(s.causes));
    assert.ok(s.causes.some((c) => c.kind === 'node-unknown' && c.nodes.includes('bad-status')));
    assert.ok(s.causes.some((c) => c.kind === 'node-down' && c.nodes.includes('hang')));
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  });
});
