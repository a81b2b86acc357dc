import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { COMMON_REASONS, VERDICT_RANK, type CompletedRun, type Probe, type ProbeResult } from '../verdict.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { errorText } from '../errors.ts';
import { RUN_JITTER } from './jitter.ts';

export interface ScheduledProbe {
  probe: Probe;
  /** Milliseconds between run starts, before jitter. */
  interval: number;
  /** Milliseconds after which a run is aborted and reported as a timeout. */
  timeout: number;
  /** The probe's declared reasons; anything else it reports is counted as "error". */
  reasons: readonly string[];
}

export interface RunnerOptions {
  probes: readonly ScheduledProbe[];
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  onResult: (run: CompletedRun) => void;
  /** Uniform in [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
  /** Fraction of the interval by which each run is moved earlier or later. */
  jitter?: number;
}

interface Task extends ScheduledProbe {
  timer?: TimerHandle;
  /** When the pending tick is due: the next is counted from here, not from when the timer fired. */
  due?: number;
  /** The probe's own promise, kept until it settles even after a timeout, so runs never overlap. */
  inFlight?: Promise<unknown>;
  /** When the run in flight started: a skipped run's log says how long that one has been going. */
  startedAt?: number;
  abort?: AbortController;
}

/** Runs every probe on its own schedule and turns each run into metrics and a result. */
export class ProbeRunner {
  readonly #opts: RunnerOptions;
  readonly #tasks: Task[];
  readonly #random: () => number;
  readonly #jitter: number;
  #stopped = false;
  /** Set once stop() has given up on the remaining runs: a result arriving later is dropped, not recorded into a closed store. */
  #closed = false;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
    this.#tasks = opts.probes.map((p) => ({ ...p }));
    this.#random = opts.random ?? Math.random;
    this.#jitter = opts.jitter ?? RUN_JITTER;
    for (const t of this.#tasks) {
      const labels = { probe: t.probe.name };
      opts.metrics.probeRuns.inc(labels, 0);
      opts.metrics.probeSkippedRuns.inc(labels, 0);
      // Exported so an alert can judge a stalled probe against its own schedule.
      opts.metrics.probeInterval.set(labels, t.interval / 1000);
      opts.metrics.probeTimeout.set(labels, t.timeout / 1000);
      for (const reason of new Set([...COMMON_REASONS, ...t.reasons])) opts.metrics.probeFailures.inc({ ...labels, reason }, 0);
    }
  }

  /** Starts every probe after a random fraction of the jitter window, so agents started together spread out. */
  start(): void {
    for (const t of this.#tasks) this.#schedule(t, this.#random() * this.#jitter * t.interval);
  }

  /** Milliseconds until the run after this one: the interval, moved by up to ±jitter. */
  nextDelay(interval: number): number {
    return interval * (1 + this.#jitter * (2 * this.#random() - 1));
  }

  #schedule(t: Task, delay: number): void {
    if (this.#stopped) return;
    t.due = this.#opts.clock.now() + delay;
    t.timer = this.#opts.clock.setTimeout(() => this.#tick(t), delay);
  }

  #tick(t: Task): void {
    if (this.#stopped) return;
    // Counted from when this tick was due, so a timer firing late on a busy event loop does not
    // push every later run back; after a stall longer than the interval, from now (no burst).
    const now = this.#opts.clock.now();
    const delay = this.nextDelay(t.interval);
    const anchored = (t.due ?? now) + delay - now;
    this.#schedule(t, anchored >= 0 ? anchored : delay);
    if (t.inFlight) {
      this.#opts.metrics.probeSkippedRuns.inc({ probe: t.probe.name });
      // Past its timeout the run was already reported as one: then the probe is not stopping when aborted.
      const runningMs = t.startedAt === undefined ? undefined : now - t.startedAt;
      this.#opts.logger.warn({ probe: t.probe.name, runningMs, timeoutMs: t.timeout, aborted: t.abort?.signal.aborted ?? false }, 'previous run still in progress; skipping this one');
      return;
    }
    void this.#runOnce(t);
  }

  /** One run of a task: bounded by its timeout, isolated from throws, recorded. */
  async #runOnce(t: Task): Promise<CompletedRun> {
    const { clock } = this.#opts;
    const name = t.probe.name;
    const abort = new AbortController();
    t.abort = abort;
    const startedAt = clock.now();
    t.startedAt = startedAt;
    const work = Promise.resolve().then(() => t.probe.run(abort.signal));
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    t.inFlight = settled;
    void settled.then(() => {
      if (t.inFlight === settled) t.inFlight = undefined;
    });

    let timer: TimerHandle | undefined;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      timer = clock.setTimeout(() => {
        abort.abort(new DOMException(`${name} probe timed out`, 'TimeoutError'));
        resolve({ verdict: 'critical', reason: 'timeout', message: `${name}: no result within ${t.timeout} ms` });
      }, t.timeout);
    });
    let result: ProbeResult;
    try {
      result = this.#sanitize(t, await Promise.race([work, timedOut]));
    } catch (err) {
      this.#opts.logger.warn({ probe: name, err }, 'probe threw');
      result = { verdict: 'critical', reason: abort.signal.aborted ? 'timeout' : 'error', message: `${name}: ${errorText(err)}` };
    } finally {
      if (timer) clock.clearTimeout(timer);
    }
    const finishedAt = clock.now();
    const run = { probe: name, result, startedAt, finishedAt };
    this.#record(run);
    return run;
  }

  #sanitize(t: Task, r: ProbeResult): ProbeResult {
    if (typeof r !== 'object' || r === null || !(r.verdict in VERDICT_RANK)) {
      return { verdict: 'critical', reason: 'error', message: `${t.probe.name}: probe returned no verdict` };
    }
    if (r.verdict === 'ok') return r;
    if (r.reason === undefined || !(t.reasons.includes(r.reason) || (COMMON_REASONS as readonly string[]).includes(r.reason))) {
      this.#opts.logger.warn({ probe: t.probe.name, reason: r.reason }, 'probe reported an undeclared reason; counting it as "error"');
      return { ...r, reason: 'error' };
    }
    return r;
  }

  #record(run: CompletedRun): void {
    if (this.#closed) return;
    const { metrics } = this.#opts;
    const labels = { probe: run.probe };
    const r = run.result;
    metrics.probeRuns.inc(labels);
    metrics.probeDuration.observe(labels, (run.finishedAt - run.startedAt) / 1000);
    metrics.probeLastRun.set(labels, run.finishedAt / 1000);
    if (!r.skipped) {
      metrics.probeSuccess.set(labels, r.verdict === 'ok' ? 1 : 0);
      metrics.probeVerdict.set(labels, VERDICT_RANK[r.verdict]);
      if (r.verdict === 'ok') metrics.probeLastSuccess.set(labels, run.finishedAt / 1000);
      else metrics.probeFailures.inc({ ...labels, reason: r.reason ?? 'error' });
    }
    try {
      this.#opts.onResult(run);
    } catch (err) {
      this.#opts.logger.error({ probe: run.probe, err }, 'recording a probe result failed');
    }
  }

  /**
   * Stops scheduling, lets in-flight runs finish within the grace period, aborts what is left,
   * then closes every probe.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tasks) if (t.timer) this.#opts.clock.clearTimeout(t.timer);
    const pending = this.#tasks.flatMap((t) => (t.inFlight ? [t.inFlight] : []));
    if (pending.length > 0) {
      let graceTimer: TimerHandle | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = this.#opts.clock.setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(pending), grace]);
      if (graceTimer) this.#opts.clock.clearTimeout(graceTimer);
      for (const t of this.#tasks) if (t.inFlight) t.abort?.abort(new DOMException('agent shutting down', 'AbortError'));
    }
    this.#closed = true;
    await Promise.all(
      this.#tasks.map(async (t) => {
        try {
          await t.probe.close?.();
        } catch (err) {
          this.#opts.logger.warn({ probe: t.probe.name, err }, 'closing probe failed');
        }
      }),
    );
  }

  get names(): string[] {
    return this.#tasks.map((t) => t.probe.name);
  }
}
