import type { CoreV1Event } from '@kubernetes/client-node';
import type { DesiredCondition } from '../diagnosis.ts';

/** Pending events are dropped past this: memory stays bounded while the API is away. */
export const MAX_PENDING_EVENTS = 20;

/**
 * The Events that tell a condition's transitions, as client-go's recorder makes them for a Node,
 * queued until they can be sent; bounded, so memory stays flat while the API server is away.
 */
export class EventRecorder {
  readonly #node: string;
  #queue: CoreV1Event[] = [];
  #seq = 0;

  constructor(node: string) {
    this.#node = node;
  }

  record(c: DesiredCondition, at: number): void {
    const time = new Date(at);
    this.#queue.push({
      // client-go's recorder names events <object>.<unix nanoseconds in hex>; the sequence keeps two in one millisecond apart
      metadata: { name: `${this.#node}.${(BigInt(at) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}` },
      involvedObject: { kind: 'Node', apiVersion: 'v1', name: this.#node, uid: this.#node },
      reason: c.reason,
      message: `${c.type} is ${c.status}: ${c.message}`.slice(0, 1024),
      type: c.status === 'True' ? 'Warning' : 'Normal',
      source: { component: 'vigil', host: this.#node },
      reportingComponent: 'vigil',
      reportingInstance: this.#node,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    });
    if (this.#queue.length > MAX_PENDING_EVENTS) this.#queue.splice(0, this.#queue.length - MAX_PENDING_EVENTS);
  }

  /** Sends the queue in order until it is empty or `stopped()`; an event is told once: a failed one is dropped, not retried into a pile. */
  async send(create: (e: CoreV1Event) => Promise<void>, stopped: () => boolean, onResult: (ok: boolean, err?: unknown) => void): Promise<void> {
    while (this.#queue.length > 0 && !stopped()) {
      const e = this.#queue[0]!;
      try {
        await create(e);
        onResult(true);
      } catch (err) {
        onResult(false, err);
      }
      this.#queue.shift();
    }
  }
}
