import type { V1Pod, Watch } from '@kubernetes/client-node';
import { abortable } from '../abortable.ts';
import type { Clock } from '../clock.ts';

export interface SeenEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: V1Pod;
  /** When the event arrived, on the agent's clock. */
  at: number;
}

/**
 * One watch on pods, keeping every event with its arrival time, so the caller can time phases
 * from events and wait for a condition without polling the API server.
 */
export class PodWatch {
  readonly events: SeenEvent[] = [];
  /** Why the stream stopped before close(): a 410, a dropped connection, a refused one. */
  ended: Error | undefined;
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();
  #controller: AbortController | undefined;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Opens the stream; gives up when `signal` aborts (the client library sets no timeout on the request). */
  async open(watch: Watch, path: string, query: Record<string, string | number | boolean>, signal?: AbortSignal): Promise<void> {
    const opening = watch.watch(
      path,
      query,
      (type: string, obj: unknown) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.events.push({ type, pod: obj as V1Pod, at: this.#clock.now() });
        else if (type === 'ERROR') this.#end(new Error(`the watch failed: ${(obj as { message?: string }).message ?? 'an ERROR event'} (${(obj as { code?: number }).code ?? '?'})`));
        this.#notify();
      },
      (err: unknown) => this.#end(err instanceof Error ? err : new Error('the API server closed the watch')),
    );
    // If the open is abandoned, a stream that arrives later is aborted as soon as it does.
    void opening.then(
      (controller) => {
        if (this.#closed || signal?.aborted) controller.abort();
      },
      () => undefined,
    );
    this.#controller = await abortable(opening, signal);
    if (this.ended) throw this.ended;
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
   * Rejects when the signal aborts or the watch ends first.
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
      const timer = this.#clock.setTimeout(() => {
        done();
        resolve(check());
      }, Math.max(0, ms));
      this.#waiters.add(test);
      signal.addEventListener('abort', onAbort, { once: true });
      test();
    });
  }

  close(): void {
    this.#closed = true;
    this.#controller?.abort();
    this.#waiters.clear();
  }
}
