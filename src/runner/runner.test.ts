import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import type { CompletedRun, Probe, ProbeResult } from '../verdict.ts';
import { ProbeRunner } from './runner.ts';

const ok: ProbeResult = { verdict: 'ok', message: 'fine' };

async function value(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const hit = m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value;
}

describe('ProbeRunner', () => {
  let clock: FakeClock;
  let metrics: Metrics;
  let runs: CompletedRun[];

  beforeEach(() => {
    clock = new FakeClock();
    metrics = createMetrics(new Registry(), { defaultMetrics: false });
    runs = [];
  });

  /** Stops a runner while moving the fake clock through its grace period. */
  async function stop(r: ProbeRunner): Promise<void> {
    const stopped = r.stop(1000);
    await clock.advance(1000);
    await stopped;
  }

  const runner = (probe: Probe, opts: { interval?: number; timeout?: number; random?: () => number; reasons?: string[]; logger?: Logger } = {}) =>
    new ProbeRunner({
      probes: [{ probe, interval: opts.interval ?? 10_000, timeout: opts.timeout ?? 5_000, reasons: opts.reasons ?? ['slow'] }],
      clock,
      metrics,
      logger: opts.logger ?? silentLogger(),
      random: opts.random ?? (() => 0.5),
      onResult: (r) => runs.push(r),
    });

  it("exports each probe's interval and timeout before its first run, so staleness can be judged against them", async () => {
    const r = runner({ name: 'p', run: () => Promise.resolve(ok) }, { interval: 15_000, timeout: 2_500 });
    assert.equal(await value(metrics, 'vigil_probe_interval_seconds', { probe: 'p' }), 15);
    assert.equal(await value(metrics, 'vigil_probe_timeout_seconds', { probe: 'p' }), 2.5);
    await stop(r);
  });

  it('keeps to its schedule when its timers fire late on a busy event loop', async () => {
    // Every timer fires 2 s after it was due, as on a starved event loop.
    const lagging = { now: () => clock.now(), setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms + 2000), clearTimeout: (h: Parameters<FakeClock['clearTimeout']>[0]) => clock.clearTimeout(h) };
    const r = new ProbeRunner({
      probes: [{ probe: { name: 'p', run: () => Promise.resolve(ok) }, interval: 10_000, timeout: 5_000, reasons: [] }],
      clock: lagging,
      metrics,
      logger: silentLogger(),
      random: () => 0.5,
      onResult: (x) => runs.push(x),
    });
    r.start();
    await clock.advance(100_000);
    // Due at 0.5 s, 10.5 s, … 90.5 s, each fired 2 s late: ten runs, not the nine of a schedule that drifts by the lag.
    assert.equal(runs.length, 10);
    assert.deepEqual(
      runs.map((x) => x.startedAt - runs[0]!.startedAt),
      [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000],
    );
    assert.equal(await value(metrics, 'vigil_probe_skipped_runs_total', { probe: 'p' }), 0);
    await stop(r);
  });

  it('after a stall longer than its interval runs once, then keeps its interval from there', async () => {
    let stalled = true;
    const held: (() => void)[] = [];
    const stalling = { now: () => clock.now(), setTimeout: (fn: () => void, ms: number) => clock.setTimeout(() => (stalled ? held.push(fn) : fn()), ms), clearTimeout: (h: Parameters<FakeClock['clearTimeout']>[0]) => clock.clearTimeout(h) };
    const r = new ProbeRunner({
      probes: [{ probe: { name: 'p', run: () => Promise.resolve(ok) }, interval: 10_000, timeout: 5_000, reasons: [] }],
      clock: stalling,
      metrics,
      logger: silentLogger(),
      random: () => 0.5,
      onResult: (x) => runs.push(x),
    });
    r.start();
    await clock.advance(35_000); // the first tick is held for 35 s
    stalled = false;
    for (const fn of held.splice(0)) fn();
    await clock.advance(0);
    await clock.advance(25_000);
    // One run at the end of the stall, then at +10 s and +20 s: no catch-up burst, nothing skipped.
    assert.deepEqual(
      runs.map((x) => x.startedAt),
      [35_000, 45_000, 55_000].map((ms) => runs[0]!.startedAt + ms - 35_000),
    );
    assert.equal(await value(metrics, 'vigil_probe_skipped_runs_total', { probe: 'p' }), 0);
    await stop(r);
  });

  it('runs each probe on its interval and records the common metrics', async () => {
    let n = 0;
    const r = runner({ name: 'p', run: () => Promise.resolve(++n === 2 ? { verdict: 'warning', reason: 'slow', message: 'slow' } : ok) });
    r.start();
    await clock.advance(500); // first run after half of the 10% jitter window
    assert.equal(runs.length, 1);
    await clock.advance(10_000);
    await clock.advance(10_000);
    assert.equal(runs.length, 3);
    assert.deepEqual(
      runs.map((x) => x.result.verdict),
      ['ok', 'warning', 'ok'],
    );
    assert.equal(await value(metrics, 'vigil_probe_runs_total', { probe: 'p' }), 3);
    assert.equal(await value(metrics, 'vigil_probe_failures_total', { probe: 'p', reason: 'slow' }), 1);
    assert.equal(await value(metrics, 'vigil_probe_failures_total', { probe: 'p', reason: 'timeout' }), 0, 'reasons are initialised at zero');
    assert.equal(await value(metrics, 'vigil_probe_success', { probe: 'p' }), 1);
    assert.equal(await value(metrics, 'vigil_probe_last_success_timestamp_seconds', { probe: 'p' }), clock.now() / 1000);
    await stop(r);
  });

  it('keeps the jitter within ±10% of the interval', () => {
    for (const x of [0, 0.25, 0.5, 0.999]) {
      const d = runner({ name: 'p', run: () => Promise.resolve(ok) }, { random: () => x }).nextDelay(10_000);
      assert.ok(d >= 9_000 && d <= 11_000, `delay ${d} for random ${x}`);
    }
    assert.equal(runner({ name: 'p', run: () => Promise.resolve(ok) }, { random: () => 0 }).nextDelay(10_000), 9_000);
  });

  it('aborts a run at its timeout and reports it as critical with reason timeout', async () => {
    let signal: AbortSignal | undefined;
    const r = runner(
      {
        name: 'slow',
        run: (s) =>
          new Promise((_resolve, reject) => {
            signal = s;
            s.addEventListener('abort', () => reject(s.reason as Error));
          }),
      },
      { timeout: 3_000 },
    );
    r.start();
    await clock.advance(500);
    assert.equal(runs.length, 0);
    await clock.advance(3_000);
    assert.equal(signal?.aborted, true, 'the probe saw its signal aborted');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.result.verdict, 'critical');
    assert.equal(runs[0]!.result.reason, 'timeout');
    assert.equal(runs[0]!.result.message, 'slow: no result within 3000 ms');
    assert.equal(runs[0]!.finishedAt - runs[0]!.startedAt, 3_000);
    assert.equal(await value(metrics, 'vigil_probe_failures_total', { probe: 'slow', reason: 'timeout' }), 1);
    await stop(r);
  });

  it('never overlaps runs of one probe, even when a probe ignores its abort signal', async () => {
    let active = 0;
    let maxActive = 0;
    let release: (() => void) | undefined;
    const logged: Record<string, unknown>[] = [];
    const r = runner(
      {
        name: 'stuck',
        run: () => {
          active++;
          maxActive = Math.max(maxActive, active);
          return new Promise<ProbeResult>((resolve) => {
            release = () => {
              active--;
              resolve(ok);
            };
          });
        },
      },
      { interval: 10_000, timeout: 2_000, logger: pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) }) },
    );
    r.start();
    await clock.advance(35_000); // three more ticks come while the first run hangs
    assert.equal(maxActive, 1);
    assert.equal(runs.length, 1, 'the hung run was reported once, as a timeout');
    assert.equal(await value(metrics, 'vigil_probe_skipped_runs_total', { probe: 'stuck' }), 3);
    // Each skip says which probe held on, for how long, and that it was aborted and did not stop.
    const skips = logged.filter((l) => l.msg === 'previous run still in progress; skipping this one');
    assert.deepEqual(
      skips.map((l) => [l.probe, l.runningMs, l.timeoutMs, l.aborted]),
      [10_000, 20_000, 30_000].map((ms) => ['stuck', ms, 2_000, true]),
    );
    release!();
    await clock.advance(10_000);
    assert.equal(maxActive, 1);
    assert.equal(runs.length, 2, 'runs resume once the hung one has settled');
    await stop(r);
  });

  it('isolates a probe that throws, synchronously or not, and one that returns garbage', async () => {
    const probes: Probe[] = [
      {
        name: 'sync',
        run: () => {
          throw new Error('boom');
        },
      },
      { name: 'async', run: () => Promise.reject(new TypeError('cannot read x')) },
      { name: 'garbage', run: () => Promise.resolve({ verdict: 'maybe' } as unknown as ProbeResult) },
      { name: 'undeclared', run: () => Promise.resolve({ verdict: 'warning', reason: 'made-up', message: 'm' }) },
    ];
    const r = new ProbeRunner({ probes: probes.map((probe) => ({ probe, interval: 10_000, timeout: 5_000, reasons: [] })), clock, metrics, logger: silentLogger(), random: () => 0, onResult: (x) => runs.push(x) });
    r.start();
    await clock.advance(1);
    const by = Object.fromEntries(runs.map((x) => [x.probe, x.result]));
    assert.deepEqual(by.sync, { verdict: 'critical', reason: 'error', message: 'sync: boom' });
    assert.deepEqual(by.async, { verdict: 'critical', reason: 'error', message: 'async: cannot read x' });
    assert.deepEqual(by.garbage, { verdict: 'critical', reason: 'error', message: 'garbage: probe returned no verdict' });
    assert.equal(by.undeclared?.reason, 'error', 'an undeclared reason is not exported as a label value');
    await stop(r);
  });

  it('keeps going when recording a result throws', async () => {
    const r = new ProbeRunner({
      probes: [{ probe: { name: 'p', run: () => Promise.resolve(ok) }, interval: 10_000, timeout: 5_000, reasons: [] }],
      clock,
      metrics,
      logger: silentLogger(),
      random: () => 0,
      onResult: () => {
        throw new Error('disk full');
      },
    });
    r.start();
    await clock.advance(20_001);
    assert.equal(await value(metrics, 'vigil_probe_runs_total', { probe: 'p' }), 3);
    await stop(r);
  });

  it('does not count a skipped run as success or failure', async () => {
    const r = runner({ name: 'p', run: () => Promise.resolve({ verdict: 'ok', skipped: true, message: 'node cordoned' }) });
    r.start();
    await clock.advance(1_000);
    assert.equal(await value(metrics, 'vigil_probe_runs_total', { probe: 'p' }), 1);
    assert.equal(await value(metrics, 'vigil_probe_success', { probe: 'p' }), undefined);
    await stop(r);
  });

  it('on stop lets an in-flight run finish within the grace period, then closes the probe', async () => {
    let finish: (() => void) | undefined;
    let closed = false;
    const r = runner({
      name: 'p',
      run: () => new Promise<ProbeResult>((resolve) => (finish = () => resolve(ok))),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    });
    r.start();
    await clock.advance(500);
    const stopped = r.stop(5_000);
    await clock.advance(1_000);
    assert.equal(closed, false, 'waits for the run');
    finish!();
    await stopped;
    assert.equal(closed, true);
    assert.equal(runs.length, 1, 'the in-flight run was recorded');
    await clock.advance(60_000);
    assert.equal(runs.length, 1, 'nothing runs after stop');
  });

  it('on stop aborts a run that outlasts the grace period', async () => {
    let signal: AbortSignal | undefined;
    const r = runner({ name: 'p', run: (s) => new Promise<ProbeResult>((_res, rej) => ((signal = s), s.addEventListener('abort', () => rej(s.reason as Error)))) }, { timeout: 9_000 });
    r.start();
    await clock.advance(500);
    const stopped = r.stop(2_000);
    await clock.advance(2_000);
    await stopped;
    assert.equal(signal?.aborted, true);
  });
});
