import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerObservation } from '../status/cluster-types.ts';
import { knownDownFrom, parseStatusQuery } from './peer-routes.ts';

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
  });
});
