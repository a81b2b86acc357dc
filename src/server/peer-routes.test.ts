import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerObservation } from '../status/cluster-types.ts';
import { knownDownFrom, parseRelayQuery, parseStatusQuery } from './peer-routes.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const obs = (peer: string, network: 'pod' | 'host', up: boolean, agoMs = 1000, since = '2026-01-01T11:00:00.000Z'): PeerObservation => ({
  peer,
  network,
  up,
  rttSeconds: up ? 0.001 : null,
  clockOffsetSeconds: null,
  lastChecked: new Date(NOW - agoMs).toISOString(),
  since,
  error: up ? null : 'timeout after 2000 ms',
  failure: up ? null : 'timeout',
});

void describe('knownDownFrom', () => {
  void it('names the peers down on every network it pings them over, with since when', () => {
    const down = knownDownFrom([obs('a', 'pod', false), obs('a', 'host', false, 1000, '2026-01-01T11:30:00.000Z'), obs('b', 'pod', false), obs('b', 'host', true), obs('c', 'pod', false)], NOW, 30_000);
    assert.deepEqual([...down.keys()], ['a', 'c']);
    // down on both networks since the later of the two
    assert.deepEqual(down.get('a'), { failure: 'timeout', error: 'timeout after 2000 ms', since: '2026-01-01T11:30:00.000Z' });
  });

  void it('does not trust an observation older than the limit', () => {
    assert.equal(knownDownFrom([obs('a', 'pod', false, 60_000)], NOW, 30_000).size, 0);
  });
});

void describe('parseStatusQuery', () => {
  void it('takes a list of details and rejects what it does not know', () => {
    assert.deepEqual(parseStatusQuery({}), { reachability: false, probes: false });
    assert.deepEqual(parseStatusQuery({ detail: 'reachability,probes' }), { reachability: true, probes: true });
    assert.throws(() => parseStatusQuery({ detail: 'everything' }), { message: 'detail: unknown "everything" (known: reachability, probes)' });
    assert.throws(() => parseStatusQuery({ detail: ['a', 'b'] }), { message: 'detail: give it once, as a comma-separated list' });
    assert.throws(() => parseStatusQuery({ verbose: '1' }), { message: 'unknown parameter "verbose" (known: detail, gather)' });
    assert.deepEqual(parseStatusQuery({ gather: 'relays' }), { reachability: false, probes: false, gather: 'relays' });
    assert.throws(() => parseStatusQuery({ gather: 'gossip' }), { message: 'gather: direct or relays' });
  });
});

void describe('parseRelayQuery', () => {
  void it("takes the members, a deadline within this agent's own and what to keep", () => {
    assert.deepEqual(parseRelayQuery({ members: 'a,b', timeout: '350', detail: 'messages,reachability' }, 1000), { members: ['a', 'b'], timeoutMs: 350, detail: { messages: true, probes: false, reachability: true } });
    assert.deepEqual(parseRelayQuery({ members: 'a', timeout: '1000' }, 1000).detail, { messages: false, probes: false, reachability: false });
  });

  void it('names what is wrong with a relay request', () => {
    for (const [q, message] of [
      [{ timeout: '350' }, 'members: give the nodes to ask, once, as a comma-separated list'],
      [{ members: ['a', 'b'], timeout: '350' }, 'members: give the nodes to ask, once, as a comma-separated list'],
      [{ members: Array.from({ length: 257 }, (_, i) => `n${i}`).join(','), timeout: '350' }, 'members: at most 256 at once, got 257'],
      [{ members: 'a,,b', timeout: '350' }, 'members: each node name is 1 to 253 characters'],
      [{ members: 'a,b,a', timeout: '350' }, 'members: "a" given twice'],
      [{ members: 'a', timeout: '5000' }, "timeout: whole milliseconds from 50 to 1000 (this agent's fan-out deadline)"],
      [{ members: 'a', timeout: '1e3' }, "timeout: whole milliseconds from 50 to 1000 (this agent's fan-out deadline)"],
      [{ members: 'a', timeout: '350', detail: 'all' }, 'detail: unknown "all" (known: messages, probes, reachability)'],
      [{ members: 'a', timeout: '350', nodes: 'b' }, 'unknown parameter "nodes" (known: members, timeout, detail)'],
    ] as const)
      assert.throws(() => parseRelayQuery(q, 1000), { message }, message);
  });
});
