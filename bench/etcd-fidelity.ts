// Does the etcd probe report the put latency a plain client sees? Runs the probe and a bare etcd3
// put loop against the same etcd member, interleaved one for one, and compares the medians.
//
//   node --import tsx bench/etcd-fidelity.ts [iterations] [fsync delay ms]
//
// With a delay, strace holds every fdatasync/fsync of the etcd process that long (a slow disk).
import { Registry } from 'prom-client';
import { Etcd3 } from 'etcd3';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { createProbe, ProbeRegistry } from '../src/probes/registry.ts';
import { systemClock } from '../src/clock.ts';
import { slowDisk, startEtcdCluster } from '../test/support/etcd.ts';

const iterations = Number(process.argv[2] ?? 300);
const fsyncDelayMs = Number(process.argv[3] ?? 0);
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
const enabled = new ProbeRegistry(builtinProbes).enabled(config).find((e) => e.definition.name === 'etcd')!;
const probe = createProbe(enabled, { node: config.node, clock: systemClock, logger: silentLogger(), registry: new Registry() }, {});

const detach = fsyncDelayMs > 0 ? await slowDisk(etcd.members[0]!.pid!, fsyncDelayMs) : undefined;

const vigil: number[] = [];
const plain: number[] = [];
try {
  const signal = new AbortController().signal;
  const vigilPut = async (i: number) => {
    const r = await probe.run(signal);
    const putMs = r.observations?.[`${endpoint} put ms`];
    // A slow put on a busy disk is a sample like any other; only a failed one stops the benchmark.
    if (typeof putMs !== 'number') throw new Error(`probe run ${i} did not put: ${r.message}`);
    return putMs;
  };
  const barePut = async () => {
    const start = performance.now();
    await bare.put('/bench/bare').value(String(Date.now()));
    return performance.now() - start;
  };
  // Alternating which goes first cancels any advantage of following the other's put. On a slow
  // disk etcd's periodic backend commit takes long enough that a put's latency depends on where
  // in that cycle it lands; a random pause before each put keeps either side from locking onto
  // one phase of it.
  const pause = () => (fsyncDelayMs > 0 ? new Promise((r) => setTimeout(r, Math.random() * 4 * fsyncDelayMs)) : Promise.resolve());
  for (let i = 0; i < warmup + iterations; i++) {
    await pause();
    const first = i % 2 === 0 ? await vigilPut(i) : await barePut();
    await pause();
    const second = i % 2 === 0 ? await barePut() : await vigilPut(i);
    if (i >= warmup) {
      vigil.push(i % 2 === 0 ? first : second);
      plain.push(i % 2 === 0 ? second : first);
    }
  }
} finally {
  await detach?.();
  await probe.close?.();
  bare.close();
  await etcd.stop();
}

const fmt = (x: number) => x.toFixed(2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const vm = quantile(vigil, 0.5);
const bm = quantile(plain, 0.5);
const disk = fsyncDelayMs > 0 ? `every fsync delayed ${fsyncDelayMs} ms by strace` : 'no injected delay';
console.log(`etcd put latency, ${iterations} interleaved pairs after ${warmup} warm-up pairs, one member on loopback (etcd ${endpoint}), ${disk}`);
console.log(`| client | median ms | mean ms | p90 ms |`);
console.log(`|---|---|---|---|`);
console.log(`| vigil etcd probe (put ms it reports) | ${fmt(vm)} | ${fmt(mean(vigil))} | ${fmt(quantile(vigil, 0.9))} |`);
console.log(`| bare etcd3 put loop | ${fmt(bm)} | ${fmt(mean(plain))} | ${fmt(quantile(plain, 0.9))} |`);
console.log(`ratio of medians (vigil / bare): ${(vm / bm).toFixed(3)} (target <= 1.10); ratio of means: ${(mean(vigil) / mean(plain)).toFixed(3)}`);
