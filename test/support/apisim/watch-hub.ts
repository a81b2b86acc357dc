import { gone } from './errors.ts';
import { matches, type Filter } from './selectors.ts';
import { RESOURCES, clone, type KObject, type Resource, type Store, type StoreEvent } from './store.ts';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface WatchRequest {
  resource: Resource;
  filter: Filter;
  /** The resourceVersion to start after; undefined or 0: start with ADDED for every current object. */
  resourceVersion?: number;
  /** Write one event; the hub never buffers beyond what the caller writes. */
  send: (e: WatchEvent) => void;
  /** End the stream (after a 410, for instance). */
  end: () => void;
  bookmarks?: boolean;
  /** With bookmarks: the time between two (a real cache's bookmarkFrequency is about a minute). */
  bookmarkIntervalMs?: number;
  /** With bookmarks: when, from now, the last one comes, ahead of the watch's deadline. */
  lastBookmarkInMs?: number;
}

/**
 * Turns store events into the events one watcher sees, as the watch cache does: an object that
 * starts matching the selector arrives as ADDED, one that stops matching as DELETED carrying its
 * last matching state.
 */
export function eventFor(resource: Resource, filter: Filter, e: StoreEvent): WatchEvent | undefined {
  if (e.resource !== resource) return undefined;
  const now = e.type !== 'DELETED' && matches(filter, resource, e.object);
  const before = e.previous !== undefined && matches(filter, resource, e.previous);
  if (e.type === 'ADDED') return now ? { type: 'ADDED', object: e.object } : undefined;
  if (e.type === 'DELETED') return before ? { type: 'DELETED', object: e.object } : undefined;
  if (now && before) return { type: 'MODIFIED', object: e.object };
  if (now) return { type: 'ADDED', object: e.object };
  // cache_watcher.go convertToWatchEvent: an object that stops matching leaves as the object the
  // watcher last saw matching (the previous one), at the event's resourceVersion
  if (before) return { type: 'DELETED', object: { ...e.previous!, metadata: { ...e.previous!.metadata, resourceVersion: String(e.rv) } } };
  return undefined;
}

export class WatchHub {
  readonly #store: Store;
  readonly #active = new Set<() => void>();

  constructor(store: Store) {
    this.#store = store;
  }

  get count(): number {
    return this.#active.size;
  }

  /** Starts a watch; returns the function that stops it. */
  open(req: WatchRequest): () => void {
    const rv = req.resourceVersion ?? 0;
    let backlog: WatchEvent[];
    if (rv === 0) {
      backlog = this.#store
        .list(req.resource)
        .filter((o: KObject) => matches(req.filter, req.resource, o))
        .map((o) => ({ type: 'ADDED', object: o }));
    } else {
      const events = this.#store.eventsSince(req.resource, rv);
      if (!events) {
        req.send({ type: 'ERROR', object: gone(rv, this.#store.oldestResourceVersion(req.resource)).status });
        req.end();
        return () => undefined;
      }
      backlog = events.map((e) => eventFor(req.resource, req.filter, e)).filter((e): e is WatchEvent => e !== undefined);
    }
    for (const e of backlog) req.send(e);
    const unsubscribe = this.#store.onEvent((e) => {
      const w = eventFor(req.resource, req.filter, e);
      if (w) req.send({ type: w.type, object: clone(w.object) });
    });
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let lastBookmark: NodeJS.Timeout | undefined;
    if (req.bookmarks) {
      const bookmark = () => req.send({ type: 'BOOKMARK', object: { kind: kindOf(req.resource), apiVersion: apiVersionOf(req.resource), metadata: { resourceVersion: String(this.#store.resourceVersion) } } });
      bookmarkTimer = setInterval(bookmark, req.bookmarkIntervalMs ?? 1000);
      bookmarkTimer.unref();
      // cache_watcher.go nextBookmarkTime: one right before the deadline, so the next watch starts from now
      if (req.lastBookmarkInMs !== undefined && req.lastBookmarkInMs > 0) {
        lastBookmark = setTimeout(bookmark, req.lastBookmarkInMs);
        lastBookmark.unref();
      }
    }
    const stop = () => {
      unsubscribe();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      if (lastBookmark) clearTimeout(lastBookmark);
      this.#active.delete(stop);
    };
    this.#active.add(stop);
    return stop;
  }

  closeAll(): void {
    for (const stop of [...this.#active]) stop();
  }
}

const kindOf = (r: Resource) => RESOURCES[r].kind;
const apiVersionOf = (r: Resource) => (r === 'leases' ? 'coordination.k8s.io/v1' : 'v1');
