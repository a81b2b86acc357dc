import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerObservation } from '../status/cluster-types.ts';
import { clockOffSince, peerTransition } from './transitions.ts';

const obs = (up: boolean, o: Partial<PeerObservation> = {}): PeerObservation => ({
  peer: 'bravo',
  network: 'host',
  up,
  rttSeconds: up ? 0.001 : null,
  clockOffsetSeconds: up ? 0 : null,
  lastChecked: '',
  error: up ? null : 'connection refused',
  failure: up ? null : 'refused',
  ...o,
});

void describe('peer transitions', () => {
  void it('first seen up is quiet; first seen down, going down and coming back are recorded', () => {
    assert.equal(peerTransition(undefined, obs(true), 1), undefined);
    assert.deepEqual(peerTransition(undefined, obs(false), 1), { time: 1, probe: 'peer/bravo/host', from: 'unknown', to: 'down', reason: 'refused', message: 'bravo over the host network unreachable: connection refused' });
    assert.equal(peerTransition(obs(true), obs(true), 2), undefined);
    assert.equal(peerTransition(obs(false), obs(false, { failure: 'timeout' }), 2), undefined);
    assert.equal(peerTransition(obs(true), obs(false, { failure: 'timeout', error: 'timeout after 2000 ms' }), 3)?.reason, 'timeout');
    assert.deepEqual(peerTransition(obs(false), obs(true), 4), { time: 4, probe: 'peer/bravo/host', from: 'down', to: 'up', reason: null, message: 'bravo over the host network reachable again' });
  });

  void it('clock off since: from the first offset past the threshold, kept while it stays past, gone once back', () => {
    assert.equal(clockOffSince(undefined, 2000, 500, 'T1'), 'T1');
    assert.equal(clockOffSince(obs(true, { clockOffSince: 'T1' }), -2000, 500, 'T2'), 'T1');
    assert.equal(clockOffSince(obs(true, { clockOffSince: 'T1' }), 100, 500, 'T3'), null);
    assert.equal(clockOffSince(obs(true, { clockOffSince: 'T1' }), null, 500, 'T3'), null);
  });
});
