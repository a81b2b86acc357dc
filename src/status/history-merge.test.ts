import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEvent } from '../history/store.ts';
import { decodeCursor, encodeCursor, mergeHistory } from './history-merge.ts';

const ev = (id: number, second: number, message = `e${id}`): HistoryEvent => ({ id, time: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(), probe: 'etcd', from: 'ok', to: 'critical', reason: 'timeout', message });

void describe('mergeHistory', () => {
  void it('takes the newest events across nodes and resumes each node after its last one taken', () => {
    const pages = new Map([
      ['a', { events: [ev(9, 50), ev(8, 30), ev(7, 10)], next: '7' }],
      ['b', { events: [ev(4, 40), ev(3, 20)], next: null }],
    ]);
    const page = mergeHistory(pages, 3, {});
    assert.deepEqual(
      page.events.map((e) => `${e.node}${e.id}`),
      ['a9', 'b4', 'a8'],
    );
    assert.deepEqual(decodeCursor(page.next!), { a: 8, b: 4 });
  });

  void it('marks a node done once all its events are delivered, and ends when every node is', () => {
    const page = mergeHistory(
      new Map([
        ['a', { events: [ev(2, 5)], next: null }],
        ['b', { events: [], next: null }],
      ]),
      10,
      { a: 3 },
    );
    assert.deepEqual(
      page.events.map((e) => e.id),
      [2],
    );
    assert.equal(page.next, null);
  });

  void it('rejects cursors it did not hand out', () => {
    assert.equal(decodeCursor('not-base64-json'), undefined);
    assert.equal(decodeCursor(encodeCursor({ a: -1 })), undefined);
    assert.equal(decodeCursor(Buffer.from('[1,2]').toString('base64url')), undefined);
    assert.equal(decodeCursor(Buffer.from('{"a":"1; DROP"}').toString('base64url')), undefined);
    assert.deepEqual(decodeCursor(encodeCursor({ a: 5, b: null })), { a: 5, b: null });
  });
});
