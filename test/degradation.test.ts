import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { defineProbe } from '../src/probes/probe.ts';
import { nodeProbe } from '../src/probes/node/probe.ts';
import { startLocalAgent } from './support/local-agent.ts';

/** A dependency that never answers: each run waits until the runner aborts it. */
function hangingProbe(counter: { runs: number; aborted: number }) {
  return defineProbe({
    name: 'stuck',
    defaultEnabled: true,
    defaultInterval: 3_600_000,
    defaultTimeout: 10_000,
    reasons: [],
    options: z.object({}),
    create: () => ({
      name: 'stuck',
      run: (signal) => {
        counter.runs++;
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            counter.aborted++;
            reject(signal.reason as Error);
          });
        });
      },
    }),
  });
}

void test('a hung dependency times out and is reported; scrapes answer meanwhile and start no probe work', async () => {
  const counter = { runs: 0, aborted: 0 };
  // First runs start at once (random 0); the next ones are an hour away, so any extra run would come from a scrape.
  const agent = await startLocalAgent('probes:\n  stuck:\n    interval: 1h\n    timeout: 3s\n  node:\n    interval: 1h\n', { probes: [nodeProbe, hangingProbe(counter)], deps: { random: () => 0 } });
  try {
    while (counter.runs === 0) await new Promise((r) => setTimeout(r, 10));
    // While the run hangs, scrapes answer.
    const scrapes = await Promise.all(Array.from({ length: 20 }, () => fetch(`${agent.url}/metrics`).then(async (r) => ({ status: r.status, body: await r.text(), probeStillHanging: counter.aborted === 0 }))));
    assert.ok(scrapes.every((s) => s.status === 200 && s.body.includes('vigil_build_info')));
    assert.ok(
      scrapes.some((s) => s.probeStillHanging),
      'no scrape finished while the probe was hanging',
    );

    const deadline = Date.now() + 15_000;
    let status;
    for (;;) {
      status = (await (await fetch(`${agent.url}/api/v1/status/local`)).json()) as { probes: { name: string; verdict: string; reason: string | null; message: string }[] };
      if (status.probes.find((p) => p.name === 'stuck')?.verdict !== 'unknown') break;
      assert.ok(Date.now() < deadline, 'the hung probe was never reported');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      status.probes.find((p) => p.name === 'stuck'),
      { ...status.probes.find((p) => p.name === 'stuck'), verdict: 'critical', reason: 'timeout', message: 'stuck: no result within 3000 ms' },
    );
    assert.equal(counter.aborted, 1);
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(metrics, /^vigil_probe_failures_total\{probe="stuck",reason="timeout"\} 1$/m);

    // The node probe's one scheduled run ends on its own time, not the stuck one's: wait until it is recorded.
    const nodeRuns = async () => Number(/^vigil_probe_runs_total\{probe="node"\} (\d+)$/m.exec(await (await fetch(`${agent.url}/metrics`)).text())?.[1] ?? 0);
    const nodeDeadline = Date.now() + 30_000;
    while ((await nodeRuns()) === 0) {
      assert.ok(Date.now() < nodeDeadline, "the node probe's first run was never recorded");
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 100; i++) await fetch(`${agent.url}/metrics`).then((r) => r.text());
    assert.equal(counter.runs, 1, 'scrapes started probe runs');
    assert.match(await (await fetch(`${agent.url}/metrics`)).text(), /^vigil_probe_runs_total\{probe="node"\} 1$/m);
  } finally {
    await agent.dispose();
  }
});
