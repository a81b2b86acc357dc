import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { HistoryStore } from './store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const t0 = Date.UTC(2026, 10, 1);
const transition = (i: number, probe = 'node') => ({ time: t0 + i * 60_000, probe, from: i % 2 ? 'critical' : 'ok', to: i % 2 ? 'ok' : 'critical', reason: i % 2 ? null : 'filesystem-full', message: `event ${i}` }) as const;

describe('HistoryStore', () => {
  it('pages through events newest first with a cursor', () => {
    const store = new HistoryStore(path.join(dir, 'paging.db'));
    for (let i = 0; i < 25; i++) store.append(transition(i));
    const seen: string[] = [];
    let cursor: number | undefined;
    for (let page = 0; page < 10; page++) {
      const res = store.query({ limit: 10, before: cursor });
      seen.push(...res.events.map((e) => e.message));
      if (res.next === null) break;
      cursor = res.next;
    }
    assert.equal(seen.length, 25);
    assert.equal(seen[0], 'event 24');
    assert.equal(seen[24], 'event 0');
    assert.equal(new Set(seen).size, 25, 'no event twice');
    store.close();
  });

  it('filters by time range and probe', () => {
    const store = new HistoryStore(path.join(dir, 'filter.db'));
    for (let i = 0; i < 10; i++) store.append(transition(i, i < 5 ? 'node' : 'etcd'));
    const etcd = store.query({ probe: 'etcd' }).events;
    assert.deepEqual(
      etcd.map((e) => e.message),
      ['event 9', 'event 8', 'event 7', 'event 6', 'event 5'],
    );
    const window = store.query({ since: t0 + 2 * 60_000, until: t0 + 4 * 60_000 }).events;
    assert.deepEqual(
      window.map((e) => e.message),
      ['event 3', 'event 2'],
    );
    assert.deepEqual(window[1], { id: window[1]!.id, time: new Date(t0 + 120_000).toISOString(), probe: 'node', from: 'ok', to: 'critical', reason: 'filesystem-full', message: 'event 2' });
    store.close();
  });

  it('purges events past the retention and keeps the rest', () => {
    const store = new HistoryStore(path.join(dir, 'purge.db'));
    for (let i = 0; i < 10; i++) store.append(transition(i));
    assert.equal(store.purge(t0 + 7 * 60_000), 7);
    assert.deepEqual(
      store.query().events.map((e) => e.message),
      ['event 9', 'event 8', 'event 7'],
    );
    store.close();
  });

  it('keeps events and values across a reopen, in WAL mode', () => {
    const file = path.join(dir, 'reopen.db');
    const a = new HistoryStore(file);
    a.append(transition(1));
    a.setValue('peers', [{ node: 'a' }], t0);
    a.close();
    const b = new HistoryStore(file);
    assert.equal(b.query().events.length, 1);
    assert.deepEqual(b.getValue('peers'), { value: [{ node: 'a' }], updated: t0 });
    assert.equal(b.getValue('missing'), undefined);
    b.close();
  });

  it('names the file when it cannot be opened', () => {
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, '');
    assert.throws(() => new HistoryStore(path.join(file, 'history.db')), { message: `cannot open the history database ${file}/history.db: EEXIST: file already exists, mkdir '${file}'` });
  });
});
