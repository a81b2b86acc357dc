import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { SeenEvent, WatchGap } from '../../k8s/pod-watch.ts';
import { phasesFrom } from './phases.ts';

const pending: V1Pod = { metadata: { name: 'p', uid: 'u' }, status: { phase: 'Pending' } };
const bound: V1Pod = { ...pending, spec: { nodeName: 'n1', containers: [] } };
const running: V1Pod = { ...bound, status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'pause', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } };
const terminating: V1Pod = { ...running, metadata: { ...running.metadata, deletionTimestamp: new Date(0) } };
const ev = (type: SeenEvent['type'], pod: V1Pod, at: number): SeenEvent => ({ type, pod, at });

const life = [ev('ADDED', pending, 1000), ev('MODIFIED', bound, 1030), ev('MODIFIED', running, 1800), ev('MODIFIED', terminating, 5000), ev('DELETED', terminating, 7200)];

void test('a pod seen through its whole life: each phase from the events as they arrived', () => {
  assert.deepEqual(phasesFrom(life, [], { createdAt: 900, deleteRequestedAt: 4990 }), {
    scheduling: { ms: 30, timed: true },
    startup: { ms: 800, timed: true },
    deletion: { ms: 2200, timed: true },
  });
});

void test('only the phases reached so far', () => {
  assert.deepEqual(phasesFrom(life.slice(0, 2), [], { createdAt: 900 }), { scheduling: { ms: 30, timed: true } });
  assert.deepEqual(phasesFrom(life.slice(0, 1), [], { createdAt: 900 }), {});
});

void test('a creation the watch did not show is timed from the create call; a deletion it did not show from the delete call', () => {
  const seen = [ev('MODIFIED', bound, 1030), ev('MODIFIED', running, 1800), ev('DELETED', terminating, 7200)];
  assert.deepEqual(phasesFrom(seen, [], { createdAt: 900, deleteRequestedAt: 5100 }), {
    scheduling: { ms: 130, timed: true },
    startup: { ms: 900, timed: true },
    deletion: { ms: 2100, timed: true },
  });
  assert.equal(phasesFrom(seen, [], { createdAt: 900 }).deletion, undefined, 'no start known: not timed at all');
});

void test('a phase the watch was down for is not timed; the phases either side of the gap are', () => {
  const gap: WatchGap = { from: 1200, to: 1600, error: new Error('watch closed') };
  assert.deepEqual(phasesFrom(life, [gap], { createdAt: 900 }), {
    scheduling: { ms: 30, timed: true },
    startup: { ms: 800, timed: false },
    deletion: { ms: 2200, timed: true },
  });
  const open: WatchGap = { from: 6000, error: new Error('watch closed') };
  assert.equal(phasesFrom(life, [open], { createdAt: 900 }).deletion?.timed, false, 'a gap still open covers everything after it');
});

void test('a DELETED event is neither scheduled nor running, and times never go negative', () => {
  const odd = [ev('DELETED', running, 1000), ev('ADDED', pending, 1500), ev('MODIFIED', bound, 1400)];
  assert.deepEqual(phasesFrom(odd, [], { createdAt: 900 }), { scheduling: { ms: 0, timed: true } });
});
