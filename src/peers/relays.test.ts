import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeCluster, type FanoutResult } from '../status/cluster.ts';
import type { ClusterStatus, LocalStatusWithPeers, PeerObservation } from '../status/cluster-types.ts';
import type { ProbeStatus } from '../status/local.ts';
import { assignAll } from './assign.ts';
import { compactMember, expandMember, MAX_RELAY_MEMBERS, relayAnswerCheck, type RelayDetail } from './relay-wire.ts';
import { PeerClient, type PeerTransport } from './client.ts';
import { RelayMemory, relayedFanout, relayGroups } from './relays.ts';

const T0 = Date.UTC(2026, 11, 8, 3, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const name = (i: number) => `node-${String(i).padStart(3, '0')}`;

const probe = (p: Partial<ProbeStatus> & Pick<ProbeStatus, 'name'>): ProbeStatus => ({
  verdict: 'ok',
  reason: null,
  message: `${p.name} fine`,
  since: at(-600),
  lastRun: at(-3),
  durationSeconds: 0.01,
  skipped: false,
  observations: { 'put ms': 4.1 },
  facts: null,
  ...p,
});

/**
 * A cluster of n nodes with a little of everything the merge reads: silent nodes, a refused agent,
 * an overlay link broken between two nodes, a clock off on one node, an etcd member failing for
 * several nodes with its facts, a probe failing on one node alone, a skipped probe.
 */
function observations(n: number): Map<string, FanoutResult> {
  const names = Array.from({ length: n }, (_, i) => name(i));
  const targets = assignAll(names, 10);
  const silent = new Set([name(5)]);
  const refused = name(7);
  const skewed = name(9);
  const overlay = [name(2), targets.get(name(2))![0]!];
  const results = new Map<string, FanoutResult>();
  names.forEach((node, i) => {
    if (silent.has(node)) return void results.set(node, { ok: false, failure: 'timeout', error: 'no answer within the 1000 ms deadline' });
    if (node === refused) return void results.set(node, { ok: false, failure: 'refused', error: 'connection refused' });
    const peers: PeerObservation[] = targets.get(node)!.flatMap((peer) =>
      (['pod', 'host'] as const).map((network) => {
        const broken = network === 'pod' && ((node === overlay[0] && peer === overlay[1]) || (node === overlay[1] && peer === overlay[0]));
        const up = !silent.has(peer) && peer !== refused && !broken;
        const failure = up ? null : peer === refused ? ('refused' as const) : ('timeout' as const);
        return {
          peer,
          network,
          up,
          rttSeconds: up ? 0.0004 + (i % 7) / 10_000 : null,
          clockOffsetSeconds: up ? (peer === skewed ? 0.9 + i / 1000 : (i % 5) / 1000 - 0.002) : null,
          lastChecked: at(-1),
          since: at(-(i % 50) - 100),
          ...(peer === skewed && up ? { clockOffSince: at(-90 + (i % 3)) } : {}),
          error: up ? null : failure === 'refused' ? 'connection refused' : 'timeout after 2000 ms',
          failure,
        };
      }),
    );
    const etcdDown = i % 4 === 1;
    const probes = [
      probe({ name: 'node', verdict: i === 20 ? 'warning' : 'ok', reason: i === 20 ? 'filesystem' : null, message: i === 20 ? '/ 91 % used' : 'filesystems fine', since: i === 20 ? at(-30) : at(-600) }),
      probe({
        name: 'etcd',
        verdict: etcdDown ? 'critical' : 'ok',
        reason: etcdDown ? 'member-unreachable' : null,
        message: etcdDown ? 'etcd-b: connection refused' : 'etcd: 3 members',
        since: etcdDown ? at(-40 - (i % 3)) : at(-600),
        facts: {
          members: [
            { endpoint: '10.0.0.1:2379', name: 'etcd-a', up: true, problem: null, putMs: 4.1, alarms: [] },
            { endpoint: '10.0.0.2:2379', name: etcdDown ? null : 'etcd-b', up: !etcdDown, problem: etcdDown ? { verdict: 'critical', reason: 'member-unreachable' } : null, putMs: etcdDown ? null : 4.4, alarms: [] },
          ],
          clusterProblem: null,
        },
      }),
      probe({ name: 'pod-scheduling', skipped: i % 6 === 0, lastRun: at(-(i % 9)) }),
    ];
    const verdict = etcdDown ? 'critical' : i === 20 ? 'warning' : 'ok';
    const status: LocalStatusWithPeers = { node, verdict, time: at(-(i % 3) / 10), probes, peers };
    results.set(node, { ok: true, status });
  });
  return results;
}

/** Every member's result through a relay: compacted, sent as JSON, checked and expanded, as the asker gets it. */
function throughRelays(results: ReadonlyMap<string, FanoutResult>, asker: string, detail: RelayDetail): Map<string, FanoutResult> {
  const out = new Map<string, FanoutResult>([[asker, results.get(asker)!]]);
  const others = [...results.keys()].filter((n) => n !== asker);
  for (const group of relayGroups(others, 7)) {
    const wire = JSON.parse(JSON.stringify({ relay: group[0], members: group.map((m) => compactMember(m, results.get(m)!, detail)) })) as unknown;
    const checked = relayAnswerCheck.safeParse(wire);
    assert.ok(checked.success, JSON.stringify(checked));
    for (const m of checked.data.members) out.set(m.node, { ...expandMember(m), via: group[0]! });
  }
  return out;
}

const withoutRelay = (s: ClusterStatus) => ({ ...s, completeness: undefined, nodes: s.nodes.map(({ via: _via, ...n }) => n) });

void describe('statuses through relays', () => {
  for (const [n, detail, label] of [
    [40, { messages: true, probes: false, reachability: true }, 'a small cluster: every edge and message'],
    [40, { messages: true, probes: true, reachability: true }, 'a small cluster, with each probe whole (?detail=probes)'],
    [150, { messages: false, probes: false, reachability: false }, 'a cluster above 100 nodes: the default answer'],
    [150, { messages: false, probes: false, reachability: true }, 'a cluster above 100 nodes, every edge (?detail=reachability)'],
  ] as const) {
    void it(`merge to the same answer and causes as the statuses asked one by one: ${label}`, () => {
      const results = observations(n);
      const names = [...results.keys()];
      const input = { asker: name(0), time: T0, nodes: names, clockOffsetThresholdSeconds: 0.3, allEdges: detail.reachability && n > 100, fullProbes: detail.probes };
      const direct = mergeCluster({ ...input, results });
      const relayed = mergeCluster({ ...input, results: throughRelays(results, name(0), detail) });
      // the cluster is not trivially healthy: every kind of cause the fixture sets up is named
      assert.deepEqual([...new Set(direct.causes.map((c) => c.kind))].sort(), ['agent-down', 'clock-offset', 'etcd-member', 'node-down', 'overlay-broken', 'probe-failing'].sort());
      assert.deepEqual(withoutRelay(relayed), withoutRelay(direct));
      assert.equal(relayed.nodes.filter((x) => x.via).length, n - 1);
      assert.deepEqual(relayed.completeness, { ...direct.completeness });
    });
  }

  void it('keep every field the merge reads of each member, and leave out only what the answer would not show', () => {
    const results = observations(150);
    const s = (results.get(name(1)) as { status: LocalStatusWithPeers }).status;
    const compact = compactMember(name(1), results.get(name(1))!, { messages: false, probes: false, reachability: false });
    assert.ok(compact.ok);
    // an ok probe loses its message and figures; a failing one keeps its message
    assert.deepEqual(
      compact.probes.find((p) => p.name === 'node'),
      { name: 'node', verdict: 'ok', since: s.probes[0]!.since, lastRun: s.probes[0]!.lastRun },
    );
    assert.equal(compact.probes.find((p) => p.name === 'etcd')!.message, 'etcd-b: connection refused');
    assert.deepEqual(compact.probes.find((p) => p.name === 'etcd')!.facts, s.probes[1]!.facts);
    // one short array per edge; the whole at most a third of the status's size
    assert.equal(compact.edges.length, s.peers.length);
    assert.ok(JSON.stringify(compact).length * 3 < JSON.stringify(s).length, `${JSON.stringify(compact).length} vs ${JSON.stringify(s).length}`);
  });
});

void describe('relayAnswerCheck', () => {
  const ok = { relay: 'a', members: [{ node: 'b', ok: true, verdict: 'ok', time: at(0), probes: [], edges: [['c', 0, 1, null, 0.001, null, T0, null]] }] };
  const issue = (v: unknown) => {
    const r = relayAnswerCheck.safeParse(v);
    return r.success ? 'accepted' : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
  };
  void it('names what is wrong in a hostile or broken answer, with where', () => {
    assert.equal(issue(ok), 'accepted');
    assert.equal(issue({ ...ok, members: Array.from({ length: MAX_RELAY_MEMBERS + 1 }, () => ok.members[0]) }), `members: too many: more than ${MAX_RELAY_MEMBERS} items`);
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: [['c', 2, 1, null, 0, null, T0, null]] }] }), 'members.0.edges.0.1: expected 0 or 1');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: [['c', 0, 1, null, 0, null, 1e300, null]] }] }), 'members.0.edges.0.6: expected a time in ms since the epoch');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: [['c', 0, 1]] }] }), 'accepted');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: [['c', 0]] }] }), 'members.0.edges.0: expected 3 to 8 items');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: [['c', 0, 1, null, null, null, null, null, null]] }] }), 'members.0.edges.0: too many: more than 8 items');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], edges: Array.from({ length: 2001 }, () => ok.members[0]!.edges[0]) }] }), 'members.0.edges: too many: more than 2000 items');
    assert.equal(issue({ ...ok, members: [{ node: 'b', ok: 'yes' }] }), 'members.0.ok: expected true or false');
    assert.equal(issue({ ...ok, members: [{ node: 'b', ok: false, failure: 'gone', error: 'x' }] }), 'members.0.failure: expected one of "refused", "timeout", "unreachable", "http", "bad"');
    assert.equal(issue({ ...ok, members: [{ ...ok.members[0], probes: [{ name: 'x' }] }] }), 'members.0.probes.0.verdict: expected one of "ok", "warning", "critical", "unknown"');
  });
});

void describe('relayGroups', () => {
  void it('puts every node in exactly one group of about the size asked, the same way on every agent', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `node-${i}`);
    const groups = relayGroups(names, 50);
    assert.equal(groups.length, 100);
    assert.deepEqual(groups.flat().sort(), [...names].sort());
    const sizes = groups.map((g) => g.length).sort((a, b) => a - b);
    // rendezvous hashing spreads 5,000 names over 100 groups: no group is empty or crowded
    assert.ok(sizes[0]! >= 20 && sizes[sizes.length - 1]! <= 90, `sizes ${sizes[0]}..${sizes[sizes.length - 1]}`);
    // the order of the names given does not matter
    assert.deepEqual(relayGroups([...names].reverse(), 50), groups);
    assert.deepEqual(relayGroups(['a'], 50), [['a']]);
  });
});

void describe('relayedFanout', () => {
  // six peers in two groups of three; one group's first-ranked node is silent (takes the request, never answers)
  const nodes = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  // the group with at least two nodes (rendezvous hashing does not even out six names)
  const group = relayGroups(nodes, 3).find((g) => g.length >= 2)!;
  const silent = group[0]!;
  const status = (node: string) => ({ node, verdict: 'ok' as const, time: at(0), probes: [], peers: [] });
  const asked: string[] = [];
  const transport: PeerTransport = {
    get: (url, { signal }) =>
      new Promise((resolve, reject) => {
        const u = new URL(url);
        const node = nodes[Number(u.hostname.split('.')[3]) - 1]!;
        asked.push(`${node} ${u.pathname}`);
        const answer = (body: unknown) => resolve({ status: 200, body: JSON.stringify(body) });
        if (node === silent) return void signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        if (u.pathname === '/api/v1/status/local') return void answer(status(node));
        const members = u.searchParams.get('members')!.split(',');
        // a relay reports the silent member as a relay would: it did not answer within its deadline
        answer({
          relay: node,
          members: members.map((m) =>
            compactMember(m, m === silent ? { ok: false, failure: 'timeout', error: 'no answer within the 210 ms deadline' } : { ok: true, status: status(m) }, { messages: false, probes: false, reachability: false }),
          ),
        });
      }),
  };
  const peers = nodes.map((node, i) => ({ node, podIP: `198.18.0.${i + 1}`, podPort: 1 }));
  const opts = { client: new PeerClient({ transport, maxBytes: 1 << 20 }), podPort: 1, concurrency: 8, timeoutMs: 600, groupSize: 3, detail: { messages: false, probes: false, reachability: false } };

  void it("replaces a silent relay by its group's next node, and asks for a node that failed last only after the others", async () => {
    const memory = new RelayMemory();
    const first = await relayedFanout(peers, { ...opts, avoid: memory.avoid(Date.now()) });
    assert.equal(first.report.replaced, 1);
    for (const m of group) assert.equal(first.results.get(m)!.via, group[1], m);
    assert.equal(first.results.get(silent)!.ok, false);
    assert.deepEqual([...new Set(first.report.failed)], [silent]);
    memory.remember(first.report.failed, Date.now());
    asked.length = 0;
    const second = await relayedFanout(peers, { ...opts, avoid: memory.avoid(Date.now()) });
    // the silent node is asked about, through the group's next node, and never asked to relay
    assert.equal(second.report.replaced, 0);
    assert.equal(second.results.get(silent)!.via, group[1]);
    assert.ok(!asked.includes(`${silent} /api/v1/status/relay`), asked.join('; '));
    // forgotten after its time
    assert.equal(new RelayMemory(1000).avoid(Date.now()).size, 0);
    const old = new RelayMemory(1000);
    old.remember([silent], Date.now() - 2000);
    assert.equal(old.avoid(Date.now()).size, 0);
  });
});
