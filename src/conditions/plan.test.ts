import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredCondition } from '../diagnosis.ts';
import { due, planWrite, type Written } from './plan.ts';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const want = (status: 'True' | 'False', message = 'm', since?: number): DesiredCondition => ({ type: 'VigilClock', status, reason: status === 'True' ? 'ClockOffset' : 'ClockInSync', message, ...(since === undefined ? {} : { since }) });
const had = (status: 'True' | 'False', at: number, message = 'm'): Written => ({ status, reason: status === 'True' ? 'ClockOffset' : 'ClockInSync', message, lastTransitionTime: '2026-01-01T11:00:00Z', at });
const opts = { minIntervalMs: 30_000, heartbeatMs: 300_000 };

void test('due: a status change at once; a new message after the minimum interval; the same again at the heartbeat', () => {
  const w = (c: DesiredCondition) => new Map([['VigilClock', c]]);
  const on = (h: Written) => new Map([['VigilClock', h]]);
  assert.deepEqual(due(w(want('True')), undefined, T, opts), { dueNow: true, next: Infinity }, 'the Node not read yet');
  assert.deepEqual(due(w(want('True')), on(had('False', T - 1000)), T, opts), { dueNow: true, next: Infinity });
  assert.deepEqual(due(w(want('False', 'new words')), on(had('False', T - 1000)), T, opts), { dueNow: false, next: T - 1000 + 30_000 });
  assert.deepEqual(due(w(want('False')), on(had('False', T - 1000)), T, opts), { dueNow: false, next: T - 1000 + 300_000 });
  assert.deepEqual(due(w(want('False')), on(had('False', T - 300_000)), T, opts), { dueNow: true, next: Infinity });
  assert.deepEqual(due(w(want('False')), on(had('False', 0)), T, opts), { dueNow: true, next: Infinity }, 'read from the Node, never written by this agent');
});

void test("planWrite: the transition time is the evidence's own on a change, kept otherwise; a first False is not a recovery", () => {
  const changed = planWrite(new Map([['VigilClock', want('True', 'off', T - 20_000)]]), new Map([['VigilClock', had('False', T - 60_000)]]), T);
  assert.equal(changed.conditions[0]!.lastTransitionTime, '2026-01-01T11:59:40Z');
  assert.equal(changed.conditions[0]!.lastHeartbeatTime, '2026-01-01T12:00:00Z');
  assert.deepEqual(
    changed.transitions.map((t) => t.status),
    ['True'],
  );
  assert.deepEqual(changed.updated.get('VigilClock'), { status: 'True', reason: 'ClockOffset', message: 'off', lastTransitionTime: '2026-01-01T11:59:40Z', at: T });

  const held = planWrite(new Map([['VigilClock', want('False', 'still fine')]]), new Map([['VigilClock', had('False', T - 60_000)]]), T);
  assert.equal(held.conditions[0]!.lastTransitionTime, '2026-01-01T11:00:00Z');
  assert.deepEqual(held.transitions, []);

  assert.deepEqual(planWrite(new Map([['VigilClock', want('False')]]), new Map(), T).transitions, [], 'a node that never carried it');
  assert.equal(planWrite(new Map([['VigilClock', want('True')]]), new Map(), T).transitions.length, 1, 'a problem on a node that never carried it is told');
  const noTime = planWrite(new Map([['VigilClock', want('False')]]), new Map([['VigilClock', { ...had('False', 0), lastTransitionTime: '' }]]), T);
  assert.equal(noTime.conditions[0]!.lastTransitionTime, '2026-01-01T12:00:00Z', 'a Node carrying none gets one: the server refuses an empty time');
});
