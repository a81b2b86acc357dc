/**
 * Exponential back-off after failures: the first delay, doubled after each further failure up to
 * the cap, back to the first after a success. Holds no timer: its user schedules on its own
 * (injected) clock. A leaf module.
 */
export class Backoff {
  readonly #first: number;
  readonly #max: number;
  #next: number;

  constructor(firstMs: number, maxMs: number) {
    this.#first = firstMs;
    this.#max = Math.max(firstMs, maxMs);
    this.#next = firstMs;
  }

  /** The delay to wait after one more failure. */
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.#next * 2, this.#max);
    return d;
  }

  /** After a success: the next failure waits the first delay again. */
  reset(): void {
    this.#next = this.#first;
  }
}
