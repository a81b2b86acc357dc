import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import { byCodeUnit } from '../compare.ts';

/** A peer agent and how to reach it over each network. */
export interface PeerRecord {
  node: string;
  podIP: string;
  /** Absent: the configured pod port. */
  podPort?: number;
  hostIP?: string;
  /** Absent: the configured host port (and no host path when none is configured). */
  hostPort?: number;
}

export type SourceName = 'kubernetes' | 'static' | 'dns';

/** Earlier sources win when two name the same node. */
const PRECEDENCE: readonly SourceName[] = ['kubernetes', 'static', 'dns'];
const STORE_KEY = 'peers.known';

/**
 * The peers known from every discovery source. Each source's last list is persisted, so an agent
 * started while the API server (or DNS) is down starts from what it knew and keeps probing.
 */
export class PeerDirectory {
  readonly #self: string;
  readonly #store: HistoryStore;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #sources = new Map<SourceName, PeerRecord[]>();
  #merged: PeerRecord[] = [];
  #version = 0;

  constructor(opts: { self: string; store: HistoryStore; now: () => number; logger: Logger; sources: readonly SourceName[] }) {
    this.#self = opts.self;
    this.#store = opts.store;
    this.#now = opts.now;
    this.#logger = opts.logger;
    let cached: Partial<Record<SourceName, PeerRecord[]>> = {};
    try {
      cached = opts.store.getValue<Partial<Record<SourceName, PeerRecord[]>>>(STORE_KEY)?.value ?? {};
    } catch (err) {
      this.#logger.warn({ err }, 'cannot read the cached peer list; starting without it');
    }
    for (const s of opts.sources) {
      const list = cached[s];
      if (Array.isArray(list) && list.length > 0) this.#sources.set(s, list.filter(isRecord));
    }
    this.#merge();
    if (this.#merged.length > 0) this.#logger.info({ peers: this.#merged.length }, 'starting from the cached peer list');
  }

  /** Replaces what a source knows; persisted when it changes the merged list. */
  set(source: SourceName, peers: readonly PeerRecord[]): void {
    const before = JSON.stringify(this.#sources.get(source) ?? []);
    const list = [...peers].sort((a, b) => byCodeUnit(a.node, b.node));
    if (JSON.stringify(list) === before) return;
    this.#sources.set(source, list);
    this.#merge();
    try {
      this.#store.setValue(STORE_KEY, Object.fromEntries(this.#sources), this.#now());
    } catch (err) {
      this.#logger.warn({ err }, 'cannot persist the peer list');
    }
  }

  #merge(): void {
    const byNode = new Map<string, PeerRecord>();
    for (const s of PRECEDENCE) for (const p of this.#sources.get(s) ?? []) if (p.node !== this.#self && !byNode.has(p.node)) byNode.set(p.node, p);
    const merged = [...byNode.values()].sort((a, b) => byCodeUnit(a.node, b.node));
    if (JSON.stringify(merged) !== JSON.stringify(this.#merged)) {
      this.#merged = merged;
      this.#version++;
    }
  }

  /** Every known peer except this node, sorted by name. */
  list(): PeerRecord[] {
    return this.#merged;
  }

  get(node: string): PeerRecord | undefined {
    return this.#merged.find((p) => p.node === node);
  }

  /** Changes whenever the merged list does, so callers can cache what they derive from it. */
  get version(): number {
    return this.#version;
  }
}

function isRecord(v: unknown): v is PeerRecord {
  const r = v as PeerRecord;
  return typeof r === 'object' && r !== null && typeof r.node === 'string' && typeof r.podIP === 'string';
}
