// API cost and end-to-end time of the Kubernetes probes against the API simulator (zero delays).
//   node --import tsx bench/k8s-probe.ts [--runs 50]
// Prints a Markdown table: API calls per run by verb, request and response body bytes per run
// (the watch stream included), and the run time (median, p90, max).
import { parseArgs } from 'node:util';
import { K8sProbeEnv } from '../test/support/k8s-probe-env.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`--runs: expected a positive integer, got ${values.runs}\n`);
  process.exit(2);
}

// Zero delays, the kubelet's deletion confirmation included: the run time is the agent's and the API's own.
const env = await K8sProbeEnv.start({ nodes: ['bench-node'], behaviour: { terminationDelayMs: 0 } });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const rows: string[] = [];
try {
  for (const name of ['pod-scheduling', 'apiserver', 'control-plane']) {
    const { probe } = env.probe('bench-node', name);
    await probe.run(AbortSignal.timeout(30_000)); // warm-up: module loading and the first connections
    const times: number[] = [];
    const calls: number[] = [];
    const bytesIn: number[] = [];
    const bytesOut: number[] = [];
    let verbs = '';
    for (let i = 0; i < runs; i++) {
      env.sim.requests.length = 0;
      const t0 = performance.now();
      const r = await probe.run(AbortSignal.timeout(30_000));
      // The watch's bytes are counted as they stream; let the closing chunk land.
      await new Promise((res) => setTimeout(res, 5));
      times.push(performance.now() - t0);
      if (r.verdict !== 'ok') throw new Error(`${name} run ${i}: ${r.verdict} ${r.message}`);
      const reqs = env.sim.requests;
      calls.push(reqs.length);
      bytesOut.push(reqs.reduce((s, q) => s + q.requestBytes, 0));
      bytesIn.push(reqs.reduce((s, q) => s + q.bytes, 0));
      verbs = reqs.map((q) => (q.verb ? `${q.verb} ${q.resource}` : `GET ${q.path}`)).join(', ');
    }
    rows.push(`| ${name} | ${pct(calls, 0.5)} (${verbs}) | ${pct(bytesOut, 0.5)} | ${pct(bytesIn, 0.5)} | ${pct(times, 0.5).toFixed(1)} | ${pct(times, 0.9).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`);
  }
} finally {
  await env.stop();
}
process.stdout.write(`${runs} runs per probe, simulator delays 0, node ${process.version}\n\n`);
process.stdout.write('| probe | API calls per run | request bytes | response bytes | median ms | p90 ms | max ms |\n|---|---|---|---|---|---|---|\n');
process.stdout.write(`${rows.join('\n')}\n`);
