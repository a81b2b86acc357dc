import type { V1Pod, V1PodList, Watch } from '@kubernetes/client-node';
import { abortable } from '../abortable.ts';
import { Backoff } from '../backoff.ts';
import type { Clock, TimerHandle } from '../clock.ts';

export interface SeenEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: V1Pod;
  /** When the event arrived, on the agent's clock. */
  at: number;
}

/** Where the watched pods come from, and how to list them again after a 410. */
export interface PodWatchSource {
  watch: Watch;
  /** "/api/v1/namespaces/vigil/pods". */
  path: string;
  labelSelector: string;
  /** Server-side end of each watch request; the stream is then re-opened. */
  timeoutSeconds: number;
  /** Lists the same pods: after a 410 the watch starts again from a fresh list. */
  list: () => Promise<V1PodList>;
}

/** A span during which the stream was down: events arriving after `to` may be replays of the gap. */
export interface WatchGap {
  from: number;
  to?: number;
  error: Error;
}

/** 401, 403 and 404 do not heal by retrying: the watch ends. */
const PERMANENT = new Set([401, 403, 404]);
const MAX_BACKOFF_MS = 8000;

const statusOf = (err: unknown): unknown => (err as { statusCode?: number } | undefined)?.statusCode ?? (err as { code?: unknown } | undefined)?.code;

/**
 * One watch on pods, keeping every event with its arrival time, so the caller can time phases
 * from events and wait for a condition without polling the API server. When the stream ends early
 * (a watch timeout, an API server restarting, a dropped connection) it is opened again from the
 * last resourceVersion seen, as informers do; after a 410 the pods are listed again and the
 * differences arrive as events. Only 401, 403 and 404 end it.
 */
export class PodWatch {
  readonly events: SeenEvent[] = [];
  /** Why the watch stopped for good: a refused first open, a 401/403/404. */
  ended: Error | undefined;
  /** Every time the stream was lost, and when it was back. */
  readonly gaps: WatchGap[] = [];
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();
  readonly #known = new Map<string, V1Pod>();
  readonly #stop = new AbortController();
  #source: PodWatchSource | undefined;
  #rv = '0';
  #generation = 0;
  #controller: AbortController | undefined;
  #openedAt = 0;
  #failures = 0;
  readonly #backoff = new Backoff(1000, MAX_BACKOFF_MS);
  #relist = false;
  #retry: TimerHandle | undefined;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The gap the stream is in now, if it is down. */
  get down(): WatchGap | undefined {
    const g = this.gaps.at(-1);
    return g && g.to === undefined ? g : undefined;
  }

  /**
   * Opens the stream from `resourceVersion`; rejects when the first open is refused or `signal`
   * aborts (the client library sets no timeout on the request).
   */
  async open(source: PodWatchSource, resourceVersion: string, signal?: AbortSignal): Promise<void> {
    this.#source = source;
    this.#rv = resourceVersion;
    const refused = await this.#connect(signal);
    if (refused) {
      this.#end(refused);
      throw refused;
    }
  }

  /** Starts one stream; resolves with the error when the server refused it outright. */
  async #connect(signal?: AbortSignal): Promise<Error | undefined> {
    const s = this.#source!;
    const gen = ++this.#generation;
    let opening = true;
    let refused: Error | undefined;
    const pending = s.watch.watch(
      s.path,
      { labelSelector: s.labelSelector, resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: s.timeoutSeconds },
      (type: string, obj: unknown) => this.#onEvent(gen, type, obj),
      (err: unknown) => {
        const e = err instanceof Error ? err : err ? new Error('the watch stream failed') : undefined;
        if (opening && e) refused = e;
        else this.#lost(gen, e);
      },
    );
    // If the open is abandoned, a stream that arrives later is aborted as soon as it does.
    void pending.then(
      (controller) => {
        if (this.#closed || signal?.aborted || gen !== this.#generation) controller.abort();
      },
      () => undefined,
    );
    try {
      this.#controller = await abortable(pending, signal);
    } finally {
      opening = false;
    }
    if (refused) return refused;
    this.#openedAt = this.#clock.now();
    const gap = this.down;
    if (gap) gap.to = this.#openedAt;
    return undefined;
  }

  #onEvent(gen: number, type: string, obj: unknown): void {
    if (gen !== this.#generation || this.#closed) return;
    const o = obj as { metadata?: { resourceVersion?: string; uid?: string }; code?: number; message?: string };
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
      const pod = obj as V1Pod;
      this.#record(type, pod);
      if (o.metadata?.resourceVersion) this.#rv = o.metadata.resourceVersion;
    } else if (type === 'BOOKMARK') {
      if (o.metadata?.resourceVersion) this.#rv = o.metadata.resourceVersion;
    } else if (type === 'ERROR') {
      // 410: the version is older than the server's history (a compaction, a restart): list again.
      if (o.code === 410) this.#relist = true;
      this.#controller?.abort();
      this.#lost(gen, new Error(`the watch failed: ${o.message ?? 'an ERROR event'} (${o.code ?? '?'})`));
    }
  }

  #record(type: SeenEvent['type'], pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid) {
      if (type === 'DELETED') this.#known.delete(uid);
      else this.#known.set(uid, pod);
    }
    this.events.push({ type, pod, at: this.#clock.now() });
    this.#notify();
  }

  /** The stream ended: open it again, at once after a clean end, with back-off after failures. */
  #lost(gen: number, err: Error | undefined): void {
    if (gen !== this.#generation || this.#closed || this.ended) return;
    this.#generation++; // late events of the lost stream are ignored
    const code = statusOf(err);
    if (typeof code === 'number' && PERMANENT.has(code)) {
      this.#end(err!);
      return;
    }
    const now = this.#clock.now();
    if (!this.down) this.gaps.push({ from: now, error: err ?? new Error('the API server closed the watch') });
    else if (err) this.down.error = err;
    // A stream that ends as soon as it opened counts as a failure, so it cannot spin; a 410 is
    // answered by listing at once, as informers do.
    let delay = 0;
    if (this.#relist && this.#failures === 0) delay = 0;
    else if (err || now - this.#openedAt < 1000) {
      this.#failures++;
      delay = this.#backoff.next();
    } else this.#succeeded();
    this.#notify();
    this.#retry = this.#clock.setTimeout(() => void this.#reopen(), delay);
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#backoff.reset();
  }

  async #reopen(): Promise<void> {
    if (this.#closed) return;
    const gen = this.#generation;
    try {
      if (this.#relist) {
        const list = await abortable(this.#source!.list(), this.#stop.signal);
        if (this.#closed) return;
        this.#replace(list);
        this.#relist = false;
      }
      const refused = await this.#connect(this.#stop.signal);
      if (refused) this.#lost(this.#generation, refused);
      else this.#succeeded();
    } catch (err) {
      if (this.#closed) return;
      this.#generation = gen;
      this.#lost(gen, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** A fresh list replaces what the watch knew: changed pods arrive as MODIFIED, new ones as ADDED, missing ones as DELETED. */
  #replace(list: V1PodList): void {
    const seen = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      const before = this.#known.get(uid);
      if (before?.metadata?.resourceVersion === pod.metadata?.resourceVersion) continue;
      this.#record(before ? 'MODIFIED' : 'ADDED', pod);
    }
    for (const [uid, pod] of [...this.#known]) if (!seen.has(uid)) this.#record('DELETED', pod);
    this.#rv = list.metadata?.resourceVersion ?? '0';
  }

  #end(err: Error): void {
    if (this.#closed || this.ended) return;
    this.ended = err;
    this.#notify();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Resolves with check()'s first defined value, re-checked on every event; undefined after `ms`.
   * Rejects when the signal aborts or the watch ends for good first.
   */
  wait<T>(check: () => T | undefined, ms: number, signal: AbortSignal): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const done = () => {
        this.#waiters.delete(test);
        signal.removeEventListener('abort', onAbort);
        this.#clock.clearTimeout(timer);
      };
      const test = () => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended) {
          done();
          reject(this.ended);
        }
      };
      const onAbort = () => {
        done();
        reject(signal.reason as Error);
      };
      const timer = this.#clock.setTimeout(
        () => {
          done();
          resolve(check());
        },
        Math.max(0, ms),
      );
      this.#waiters.add(test);
      signal.addEventListener('abort', onAbort, { once: true });
      test();
    });
  }

  close(): void {
    this.#closed = true;
    this.#stop.abort();
    if (this.#retry) this.#clock.clearTimeout(this.#retry);
    this.#controller?.abort();
    this.#waiters.clear();
  }
}
