/**
 * Whether this agent's calls reach the API server, as every Kubernetes call of the agent finds out.
 * A component's leader cannot renew its lease while the API server does not answer, and after an
 * outage longer than its renew deadline it exits and its next instance waits a lease duration
 * before it takes over (client-go leaderelection): a lease last renewed before the API server
 * answered again says nothing about the component yet.
 */
export class ApiContact {
  readonly #now: () => number;
  #failingSince: number | undefined;
  #answeringSince: number | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A call got no answer: refused, reset, timed out, or a 5xx from a server going away. */
  failed(): void {
    this.#failingSince ??= this.#now();
  }

  /** A call got an answer from the API server. */
  answered(): void {
    if (this.#failingSince === undefined) return;
    this.#failingSince = undefined;
    this.#answeringSince = this.#now();
  }

  /** When the API server answered again after the last failure this agent saw; undefined if it has not failed, or is failing now. */
  answeringAgainSince(): number | undefined {
    return this.#failingSince === undefined ? this.#answeringSince : undefined;
  }
}
