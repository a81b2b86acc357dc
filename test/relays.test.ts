import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { relayGroups } from '../src/peers/relays.ts';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { startTestAgent } from './support/in-process.ts';
import { startLoopbackCluster, type LoopbackCluster } from './support/loopback-cluster.ts';
import { waitFor } from './support/peer-agents.ts';
import { defaultAnswer, startResponders } from './support/responders.ts';

/**
 * The cluster status gathered through relays by real agents on loopback, against the same agent
 * asking every peer itself (`?gather=direct`): the same answer and causes, a relay cut off in the
 * middle of a request replaced without losing its group, and a partition.
 */

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const ASKER = 'a';

async function status(cluster: LoopbackCluster, node: string, gather: 'direct' | 'relays'): Promise<ClusterStatus> {
  const res = await fetch(`${cluster.url(node)}/api/v1/status?gather=${gather}`);
  assert.equal(res.status, 200);
  return (await res.json()) as ClusterStatus;
}

/** What two answers gathered a moment apart share: everything but the figures of the moment (round trips, run times, probe messages). */
const view = (s: ClusterStatus) => ({
  verdict: s.verdict,
  causes: s.causes,
  partitions: s.partitions,
  reachabilityShown: s.reachabilityShown,
  reachability: s.reachability.map(({ rttSeconds: _rtt, ...e }) => e),
  nodes: s.nodes.map((n) => ({
    name: n.name,
    verdict: n.verdict,
    answered: n.answered,
    error: n.error,
    unreachableFrom: n.unreachableFrom,
    downSince: n.downSince,
    probes: n.probes.map((p) => ({ name: p.name, verdict: p.verdict, reason: p.reason, since: p.since, skipped: p.skipped })),
  })),
});

/** Both ways at once, from the same agent. */
async function both(cluster: LoopbackCluster, node = ASKER) {
  const [direct, relayed] = await Promise.all([status(cluster, node, 'direct'), status(cluster, node, 'relays')]);
  return { direct, relayed };
}

void describe('cluster status through relays (real agents on loopback)', () => {
  let cluster: LoopbackCluster;
  // the asker's groups: 6 peers in groups of 2, each group's relay first
  const groups = relayGroups(
    NAMES.filter((n) => n !== ASKER),
    2,
  );

  before(async () => {
    // a deadline long enough that no relay is replaced for being slow on a busy machine (half of it: 2 s) unless a test makes it so
    cluster = await startLoopbackCluster({ names: NAMES, intervalMs: 1500, fanout: { groupSize: 2, timeout: '4s' } });
    // and every agent has pinged every other on both networks and run every probe once: no edge is
    // still to appear and no probe still to leave "unknown" between two answers
    await waitFor('every node answering and healthy, every probe run, every edge up, asked directly', async () => {
      const s = await status(cluster, ASKER, 'direct');
      const edges = NAMES.length * (NAMES.length - 1) * 2;
      const allRun = s.nodes.every((n) => n.probes.every((p) => p.verdict !== 'unknown'));
      return s.verdict === 'healthy' && s.nodes.every((n) => n.answered) && allRun && s.reachability.length === edges && s.reachability.every((e) => e.up) ? s : undefined;
    });
  });
  after(async () => {
    await cluster?.close();
  });

  void it('gives the answer and the causes the agent gives asking every peer itself, and says how it gathered them', async () => {
    const { direct, relayed } = await both(cluster);
    assert.deepEqual(view(relayed), view(direct));
    assert.equal(relayed.verdict, 'healthy');
    assert.equal(direct.completeness.gathered, 'direct');
    assert.equal(relayed.completeness.gathered, 'relays');
    assert.equal(relayed.completeness.relays?.groups, groups.length);
    assert.deepEqual([relayed.completeness.answered, relayed.completeness.unanswered, relayed.completeness.nodes], [7, 0, 7]);
    // every peer's status came through its group's relay, and says so; the asker's own did not
    for (const n of relayed.nodes) assert.equal(n.via, n.name === ASKER ? undefined : groups.find((g) => g.includes(n.name))![0], n.name);
  });

  void it('replaces a relay whose connection is cut in the middle of a request, and still hears its whole group', async () => {
    const group = groups.find((g) => g.length >= 2)!;
    const [relay, member] = group as [string, string];
    // the relay waits on its member: its path to it is slow, so the asker's request sits at the relay
    for (const net of ['pod', 'host'] as const) cluster.link(relay, member, net).delayMs = 400;
    try {
      const pending = status(cluster, ASKER, 'relays');
      const relaying = (lines: string[]) => lines.some((l) => l.startsWith('GET /api/v1/status/relay?'));
      const paths = [cluster.link(ASKER, relay, 'pod'), cluster.link(ASKER, relay, 'host')];
      await waitFor("the asker's request waiting at the relay", () => Promise.resolve(relaying(paths.flatMap((l) => l.awaiting)) ? true : undefined), 10_000);
      assert.ok(relaying(paths.flatMap((l) => l.block(true))), 'the relay request was cut before its answer');
      const s = await pending;
      assert.equal(s.completeness.relays?.replaced, 1);
      // the next relay answered for the group, the cut-off relay included
      for (const n of group) {
        const node = s.nodes.find((x) => x.name === n)!;
        assert.equal(node.answered, true, `${n}: ${node.error}`);
        assert.equal(node.via, member, n);
      }
      assert.deepEqual([s.completeness.answered, s.completeness.unanswered], [7, 0]);
    } finally {
      for (const net of ['pod', 'host'] as const) {
        cluster.link(relay, member, net).delayMs = 0;
        cluster.link(ASKER, relay, net).block(false);
      }
    }
  });

  void it("names an agent that stopped, a group's relay until then, as the agent asking every peer itself does", async () => {
    const stopped = groups[0]![0]!;
    await cluster.stopAgent(stopped);
    const { direct, relayed } = await waitFor('the stopped agent named', async () => {
      const b = await both(cluster);
      // every observer's pings of it already failed, in both answers: nothing left to change between the two
      const allDown = (s: ClusterStatus) => s.causes.some((c) => c.nodes.includes(stopped)) && s.reachability.filter((e) => e.peer === stopped).every((e) => !e.up);
      return allDown(b.direct) && allDown(b.relayed) ? b : undefined;
    });
    assert.deepEqual(view(relayed), view(direct));
    // one cause, for that node alone (on loopback its links reset the connections: "down or isolated")
    assert.deepEqual(
      relayed.causes.map((c) => c.nodes),
      [[stopped]],
    );
    assert.match(relayed.causes[0]!.kind, /^(agent|node)-down$/);
  });

  void it('during a partition, each side answers for itself and names the side it cannot see, as when asked directly', async () => {
    const stopped = groups[0]![0]!;
    const running = NAMES.filter((n) => n !== stopped);
    const near = running.slice(0, 3);
    const far = running.slice(3);
    cluster.partition([near, far]);
    try {
      for (const [asker, others] of [
        [near[0]!, far],
        [far[0]!, near],
      ] as const) {
        const { direct, relayed } = await waitFor(`${asker}'s side naming the partition`, async () => {
          const b = await both(cluster, asker);
          const cut = (s: ClusterStatus) => s.causes.some((c) => c.kind === 'partition') && s.reachability.filter((e) => others.includes(e.peer) !== others.includes(e.observer)).every((e) => !e.up);
          return cut(b.direct) && cut(b.relayed) ? b : undefined;
        });
        assert.deepEqual(view(relayed), view(direct));
        const partition = relayed.causes.find((c) => c.kind === 'partition')!;
        // the stopped agent is on neither side: cut off from both, it is on the far side of each
        assert.deepEqual(partition.sides?.[1], [...others, stopped].sort());
        for (const n of others) assert.equal(relayed.nodes.find((x) => x.name === n)!.answered, false, n);
        assert.equal(relayed.completeness.unanswered, others.length + 1); // and the stopped agent
      }
    } finally {
      cluster.partition(null);
    }
  });
});

void describe('a relay that lies about other nodes', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  let asker: Awaited<ReturnType<typeof startTestAgent>>;
  // names whose groups put the liar first in a group of two or more, so the asker asks it to relay
  const honest = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const liar = Array.from({ length: 200 }, (_, i) => `liar-${i}`).find((l) => {
    const g = relayGroups([l, ...honest], 2).find((x) => x.includes(l))!;
    return g[0] === l && g.length >= 2;
  })!;
  const groups = relayGroups([liar, ...honest], 2);
  const ownGroup = groups.find((g) => g[0] === liar)!;
  const member = ownGroup[1]!;
  const foreign = honest.find((n) => !ownGroup.includes(n))!;
  const forged = (node: string) => ({
    node,
    ok: true,
    verdict: 'critical',
    time: new Date().toISOString(),
    probes: [{ name: 'etcd', verdict: 'critical', reason: 'forged', message: `forged by ${liar}`, since: new Date().toISOString(), lastRun: new Date().toISOString(), durationSeconds: null, skipped: false, observations: null, facts: null }],
    edges: [],
  });

  before(async () => {
    sim = await startResponders([liar, ...honest], (node, req, res) => {
      // only the liar relays; the honest stand-ins do not know the relay endpoint (404), so their groups are asked directly
      if (node === liar && req.url?.startsWith('/api/v1/status/relay')) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ relay: liar, members: [forged(member), forged(foreign), { node: liar, ok: true, verdict: 'ok', time: new Date().toISOString(), probes: [], edges: [] }] }));
      } else defaultAnswer(node, req, res);
    });
    asker = await startTestAgent('asker', {
      probes: { node: { enabled: false } },
      peers: { discovery: ['static'], static: [...sim.responders.values()].map((r) => ({ node: r.node, pod: `127.0.0.1:${r.port}` })), interval: '1s', timeout: '800ms', fanout: { timeout: '2s', groupSize: 2 } },
    });
  });
  after(async () => {
    await asker?.stop();
    await sim?.close();
  });

  void it('is believed only for the members it was asked about, and what it says of them is marked as its word', async () => {
    const res = await fetch(`${asker.url}/api/v1/status?gather=relays`);
    const s = (await res.json()) as ClusterStatus;
    const node = (n: string) => s.nodes.find((x) => x.name === n)!;
    // the node it was not asked about speaks for itself (asked directly after its own relays failed)
    assert.equal(node(foreign).verdict, 'ok');
    assert.equal(node(foreign).via, undefined);
    assert.equal(s.completeness.relays?.foreignDropped, 1);
    // its own member's status is its word: shown, and attributed to it
    assert.equal(node(member).verdict, 'critical');
    assert.equal(node(member).via, liar);
    assert.equal(node(liar).via, liar);
    // the honest groups' relays did not relay (404): their members were asked directly, and every node answered
    assert.deepEqual([s.completeness.answered, s.completeness.unanswered], [7, 0]);
    assert.equal(s.completeness.relays?.askedDirectly, honest.length - 1);
  });
});
