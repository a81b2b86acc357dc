import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, notFound, type ResourceRef } from './errors.ts';

/** The resources the simulator serves, with their group and whether they are namespaced. */
export const RESOURCES = {
  pods: { group: '', version: 'v1', kind: 'Pod', namespaced: true },
  nodes: { group: '', version: 'v1', kind: 'Node', namespaced: false },
  leases: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', namespaced: true },
  events: { group: '', version: 'v1', kind: 'Event', namespaced: true },
} as const;
export type Resource = keyof typeof RESOURCES;

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

/** Objects are kept as plain JSON, the way they travel over the wire. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: Resource;
  rv: number;
  object: KObject;
  /** The object before the change (MODIFIED, DELETED), so selector transitions can be computed. */
  previous?: KObject;
  /** When it happened (ms since the epoch): history is kept for a time, as the watch cache does. */
  at: number;
}

const key = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
export const refOf = (resource: Resource, name?: string): ResourceRef => ({ resource, group: RESOURCES[resource].group, name });
export const clone = <T>(o: T): T => structuredClone(o);

/** watch_cache_history.go: the watch cache's capacity bounds (defaultLowerBoundCapacity, defaultUpperBoundCapacity). */
const LOWER_BOUND_CAPACITY = 100;
const UPPER_BOUND_CAPACITY = 100 * 1024;

/**
 * One resource's watch-cache history, as watch_cache_history.go keeps it: a buffer of at least 100
 * events that doubles (up to 102,400) when it is full and its oldest event is younger than
 * eventFreshDuration (75 s), and halves when the newest quarter is older than that. An event
 * leaves only when a newer one needs its place, so a quiet resource keeps its history for good,
 * and a busy one keeps at least the last 75 s.
 */
class WatchCacheHistory {
  #capacity: number;
  readonly #lower: number;
  readonly #freshMs: number;
  #events: StoreEvent[] = [];
  /** The oldest resourceVersion a watch may still start from. */
  oldest: number;

  constructor(startRv: number, freshMs: number, lower: number) {
    this.oldest = startRv;
    this.#freshMs = freshMs;
    this.#lower = lower;
    this.#capacity = lower;
  }

  add(e: StoreEvent): void {
    const full = this.#events.length === this.#capacity;
    if (full && e.at - this.#events[0]!.at < this.#freshMs) this.#capacity = Math.min(this.#capacity * 2, UPPER_BOUND_CAPACITY);
    else if (full && e.at - this.#events[this.#events.length - Math.floor(this.#capacity / 4)]!.at > this.#freshMs) this.#capacity = Math.max(Math.floor(this.#capacity / 2), this.#lower);
    while (this.#events.length >= this.#capacity) this.oldest = this.#events.shift()!.rv;
    this.#events.push(e);
  }

  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldest) return undefined;
    return this.#events.filter((e) => e.rv > rv);
  }

  reset(rv: number): void {
    this.#events = [];
    this.oldest = rv;
  }
}

/**
 * Objects with a cluster-wide, monotonically increasing resourceVersion, and the event log the
 * watch cache replays from. The log keeps a bounded window: a watch from before it gets 410 Gone.
 */
export class Store {
  #rv: number;
  readonly #objects = new Map<Resource, Map<string, KObject>>();
  /** Per resource, as each resource has a watch cache of its own. */
  readonly #history = new Map<Resource, WatchCacheHistory>();
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  readonly #pending: StoreEvent[] = [];
  #emitting = false;

  /**
   * `historyMs`: eventFreshDuration (75 s), the history a busy watch cache keeps at least;
   * `historyEvents`: the history's lower bound, in events (100).
   */
  constructor(opts: { startRv?: number; historyMs?: number; historyEvents?: number } = {}) {
    this.#rv = opts.startRv ?? 1000;
    for (const r of Object.keys(RESOURCES) as Resource[]) {
      this.#objects.set(r, new Map());
      this.#history.set(r, new WatchCacheHistory(this.#rv, opts.historyMs ?? 75_000, opts.historyEvents ?? LOWER_BOUND_CAPACITY));
    }
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** The oldest resourceVersion a watch of `resource` may still start from. */
  oldestResourceVersion(resource: Resource): number {
    return this.#history.get(resource)!.oldest;
  }

  onEvent(fn: (e: StoreEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** `resource`'s events after `rv`, or undefined when `rv` is older than its watch cache's history. */
  eventsSince(resource: Resource, rv: number): StoreEvent[] | undefined {
    return this.#history.get(resource)!.since(rv);
  }

  /** Forgets the history, as a restarted watch cache does (etcd compaction too): watches from any earlier version get 410. */
  compact(): void {
    for (const h of this.#history.values()) h.reset(this.#rv);
  }

  get(resource: Resource, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.#objects.get(resource)!.get(key(namespace, name));
    return o && clone(o);
  }

  mustGet(resource: Resource, namespace: string | undefined, name: string): KObject {
    const o = this.get(resource, namespace, name);
    if (!o) throw notFound(refOf(resource, name));
    return o;
  }

  list(resource: Resource): KObject[] {
    // etcd returns keys in order: namespace, then name.
    return [...this.#objects.get(resource)!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, o]) => clone(o));
  }

  create(resource: Resource, obj: Omit<KObject, 'metadata'> & { metadata: Partial<ObjectMeta> & { name: string } }): KObject {
    const m = obj.metadata;
    if (this.#objects.get(resource)!.has(key(m.namespace, m.name))) throw alreadyExists(refOf(resource, m.name));
    const def = RESOURCES[resource];
    const rv = ++this.#rv;
    const created: KObject = {
      ...clone(obj),
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      kind: def.kind,
      metadata: { ...clone(m), uid: randomUUID(), resourceVersion: String(rv), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    };
    this.#objects.get(resource)!.set(key(m.namespace, m.name), created);
    this.#emit({ type: 'ADDED', resource, rv, object: clone(created), at: Date.now() });
    return clone(created);
  }

  /** Applies `mutate` to the stored object; `expectRv` makes it a compare-and-swap, as PUT does. */
  update(resource: Resource, namespace: string | undefined, name: string, mutate: (o: KObject) => void, expectRv?: string): KObject {
    const current = this.#objects.get(resource)!.get(key(namespace, name));
    if (!current) throw notFound(refOf(resource, name));
    if (expectRv !== undefined && expectRv !== current.metadata.resourceVersion) {
      throw conflict(refOf(resource, name), 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const next = clone(current);
    mutate(next);
    const rv = ++this.#rv;
    next.metadata = { ...next.metadata, resourceVersion: String(rv), uid: current.metadata.uid, name, namespace: current.metadata.namespace };
    this.#objects.get(resource)!.set(key(namespace, name), next);
    this.#emit({ type: 'MODIFIED', resource, rv, object: clone(next), previous: clone(current), at: Date.now() });
    return clone(next);
  }

  /** Removes the object now; the DELETED event carries the deletion's resourceVersion. */
  remove(resource: Resource, namespace: string | undefined, name: string): KObject {
    const current = this.#objects.get(resource)!.get(key(namespace, name));
    if (!current) throw notFound(refOf(resource, name));
    this.#objects.get(resource)!.delete(key(namespace, name));
    const rv = ++this.#rv;
    const gone = { ...clone(current), metadata: { ...clone(current.metadata), resourceVersion: String(rv) } };
    this.#emit({ type: 'DELETED', resource, rv, object: gone, previous: clone(current), at: Date.now() });
    return clone(gone);
  }

  #emit(e: StoreEvent): void {
    this.#history.get(e.resource)!.add(e);
    // A listener that writes (the kubelet reacting to a binding) must not overtake the event it reacts to.
    this.#pending.push(e);
    if (this.#emitting) return;
    this.#emitting = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) for (const fn of this.#listeners) fn(next);
    } finally {
      this.#emitting = false;
    }
  }
}
