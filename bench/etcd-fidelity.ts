// Does the etcd probe report the put latency a plain client sees? Runs the probe and a bare etcd3
// put loop against the same etcd member, interleaved one for one, and compares the medians.
//
//   node --import tsx bench/etcd-fidelity.ts [iterations]
import { Registry } from 'prom-client';
import { Etcd3 } from 'etcd3';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.ts';
import type { HistoryStore } from '../src/history/store.ts';
import { silentLogger } from '../src/log.ts';
import { createMetrics } from '../src/metrics/metrics.ts';
import { etcdProbe } from '../src/probes/etcd.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { systemClock } from '../src/runner/clock.ts';
import { startEtcdCluster } from '../test/support/etcd.ts';

const iterations = Number(process.argv[2] ?? 300);
const warmup = 20;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const etcd = await startEtcdCluster(1);
const endpoint = etcd.endpoints[0]!;
const bare = new Etcd3({ hosts: `http://${endpoint}` });
const config = loadConfig({
  probes: builtinProbes,
  file: { name: 'bench.yaml', text: stringify({ node: { name: 'bench' }, probes: { node: { enabled: false }, etcd: { enabled: true, endpoints: [endpoint] } } }) },
});
const { enabled: _e, interval: _i, timeout: _t, ...options } = config.probes.etcd!;
const probe = etcdProbe.create(
  // The probe uses no history; the store is never touched.
  { node: config.node, config, metrics: createMetrics(new Registry(), { defaultMetrics: false }), clock: systemClock, logger: silentLogger(), store: undefined as unknown as HistoryStore },
  options,
);

const vigil: number[] = [];
const plain: number[] = [];
try {
  const signal = new AbortController().signal;
  for (let i = 0; i < warmup + iterations; i++) {
    const r = await probe.run(signal);
    const putMs = r.observations?.[`${endpoint} put ms`];
    if (r.verdict !== 'ok' || typeof putMs !== 'number') throw new Error(`probe run ${i} was not ok: ${r.message}`);
    const start = performance.now();
    await bare.put('/bench/bare').value(String(Date.now()));
    const bareMs = performance.now() - start;
    if (i >= warmup) {
      vigil.push(putMs);
      plain.push(bareMs);
    }
  }
} finally {
  await probe.close?.();
  bare.close();
  await etcd.stop();
}

const fmt = (x: number) => x.toFixed(2);
const vm = quantile(vigil, 0.5);
const bm = quantile(plain, 0.5);
console.log(`etcd put latency, ${iterations} interleaved pairs after ${warmup} warm-up pairs, one member on loopback (etcd ${endpoint})`);
console.log(`| client | median ms | p90 ms |`);
console.log(`|---|---|---|`);
console.log(`| vigil etcd probe (put ms it reports) | ${fmt(vm)} | ${fmt(quantile(vigil, 0.9))} |`);
console.log(`| bare etcd3 put loop | ${fmt(bm)} | ${fmt(quantile(plain, 0.9))} |`);
console.log(`ratio of medians (vigil / bare): ${(vm / bm).toFixed(3)} (target <= 1.10)`);
