import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { errorText } from '../errors.ts';
import { builtin } from '../runtime.ts';
import type { HistoryEvent } from './api-types.ts';

export type { HistoryEvent } from './api-types.ts';

/** What goes into the timeline: a probe's verdict changing, or a peer link (`peer/<node>/<network>`) going up or down. */
export interface NewEvent {
  time: number;
  probe: string;
  from: string;
  to: string;
  reason: string | null;
  message: string;
}

export interface HistoryQuery {
  /** Milliseconds since the epoch; events at or after. */
  since?: number;
  /** Milliseconds since the epoch; events before. */
  until?: number;
  probe?: string;
  /** Page size; at most MAX_LIMIT. */
  limit?: number;
  /** From a previous page's `next`: events older than this one. */
  before?: number;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const MIGRATIONS = [
  `CREATE TABLE transitions (
     id INTEGER PRIMARY KEY,
     time_ms INTEGER NOT NULL,
     probe TEXT NOT NULL,
     from_verdict TEXT NOT NULL,
     to_verdict TEXT NOT NULL,
     reason TEXT,
     message TEXT NOT NULL
   );
   CREATE INDEX transitions_time ON transitions (time_ms);
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ms INTEGER NOT NULL);`,
];

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir loops forever where mkdir answers ENOENT
 * under a directory that exists (procfs, sysfs: `--storage.path /proc/nope`).
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  // An ancestor that is a file: mkdir says so (EEXIST, naming it) rather than SQLite ("unable to open").
  const existing = path.dirname(missing[0] ?? path.resolve(dir, 'x'));
  if (!statSync(existing).isDirectory()) mkdirSync(existing);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

interface Row {
  id: number;
  time_ms: number;
  probe: string;
  from_verdict: string;
  to_verdict: string;
  reason: string | null;
  message: string;
}

/**
 * The node's timeline in SQLite (Node's built-in node:sqlite). WAL with synchronous=NORMAL: a
 * committed event survives the process being killed (the OS holds it), and a transition costs no
 * fsync on the event loop.
 */
export class HistoryStore {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly path: string;

  constructor(file: string) {
    this.path = file;
    try {
      if (file !== ':memory:') makeDirectories(path.dirname(file));
      this.#db = new (builtin('node:sqlite').DatabaseSync)(file, { timeout: 2000 });
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      this.#migrate();
    } catch (err) {
      throw new Error(`cannot open the history database ${file}: ${errorText(err)}`, { cause: err });
    }
    this.#insert = this.#db.prepare('INSERT INTO transitions (time_ms, probe, from_verdict, to_verdict, reason, message) VALUES (?, ?, ?, ?, ?, ?)');
  }

  #migrate(): void {
    const version = Number((this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#db.exec('BEGIN');
      try {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
        this.#db.exec('COMMIT');
      } catch (err) {
        this.#db.exec('ROLLBACK');
        throw err;
      }
    }
  }

  append(t: NewEvent): number {
    return Number(this.#insert.run(t.time, t.probe, t.from, t.to, t.reason, t.message).lastInsertRowid);
  }

  /** Newest first; `next` is the cursor for the following (older) page, null on the last one. */
  query(q: HistoryQuery = {}): { events: HistoryEvent[]; next: number | null } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, arg: string | number | undefined) => {
      if (arg === undefined) return;
      where.push(clause);
      args.push(arg);
    };
    add('time_ms >= ?', q.since);
    add('time_ms < ?', q.until);
    add('probe = ?', q.probe);
    add('id < ?', q.before);
    const limit = Math.min(Math.max(1, q.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const sql = `SELECT * FROM transitions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit + 1}`;
    const rows = this.#db.prepare(sql).all(...args) as unknown as Row[];
    const page = rows.slice(0, limit);
    return {
      events: page.map((r) => ({ id: r.id, time: new Date(r.time_ms).toISOString(), probe: r.probe, from: r.from_verdict, to: r.to_verdict, reason: r.reason, message: r.message })),
      next: rows.length > limit ? page.at(-1)!.id : null,
    };
  }

  /** Deletes events older than the retention; returns how many went. */
  purge(olderThanMs: number): number {
    return Number(this.#db.prepare('DELETE FROM transitions WHERE time_ms < ?').run(olderThanMs).changes);
  }

  /** Small named values that must outlive a restart (the last known peer list, say). */
  getValue<T>(key: string): { value: T; updated: number } | undefined {
    const row = this.#db.prepare('SELECT value, updated_ms FROM kv WHERE key = ?').get(key) as { value: string; updated_ms: number } | undefined;
    return row ? { value: JSON.parse(row.value) as T, updated: row.updated_ms } : undefined;
  }

  setValue(key: string, value: unknown, now: number): void {
    this.#db.prepare('INSERT INTO kv (key, value, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms').run(key, JSON.stringify(value), now);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
