// GET /api/v1/status at 100, 1,000 and 5,000 nodes, 10 % of them silent (they accept connections
// and never answer, on both paths), pod and host paths configured. Stand-in peers answer like real
// agents: five probes with their figures, and their pings of k = 10 peers on both networks as the
// mesh assigns them (the silent ones seen down). One stand-in server per network answers for every
// node, told apart by the loopback address it was reached on (node i is 127.10.x.y).
// Reports latency, answer size, nodes answered and the agent's transient RSS per request (peak
// minus the RSS just before), for the shipped artifact and, with --before, another build side by
// side; then the merge alone, in process, to show it grows linearly with nodes × k.
//
//   npm run build && node --import tsx bench/cluster-status.ts [--sizes 100,1000,5000] [--requests 5]
//     [--before <other build's vigil.mjs>] [--before-sizes 100,1000]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { score } from '../src/peers/assign.ts';
import { mergeCluster, type FanoutResult } from '../src/status/cluster.ts';
import { SHIPPED, startArtifact } from './artifact.ts';
import { localStatus } from './peer-answer.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    requests: { type: 'string', default: '5' },
    before: { type: 'string' },
    'before-sizes': { type: 'string', default: '100,1000' },
    artifact: { type: 'string', default: SHIPPED },
    rounds: { type: 'string', default: '1' },
  },
});
const K = 10;
const SILENT_EVERY = 10;
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const name = (i: number) => `node-${String(i).padStart(5, '0')}`;
const ip = (i: number) => `127.10.${(i >> 8) & 255}.${i & 255}`;
const isSilent = (i: number) => i % SILENT_EVERY === SILENT_EVERY - 1;

/** Every node's k targets, as assignPeers picks them (k rendezvous rings, each node's successor on each), computed once per ring. */
function assignAllFast(names: string[], k: number): string[][] {
  const index = new Map(names.map((n, i) => [n, i]));
  const chosen = names.map(() => new Set<number>());
  for (let r = 0; r < k; r++) {
    const ring = names
      .map((n) => ({ n, s: score(r, n) }))
      .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.n < b.n ? -1 : 1))
      .map((x) => index.get(x.n)!);
    ring.forEach((self, at) => {
      for (let step = 1; step < ring.length; step++) {
        const next = ring[(at + step) % ring.length]!;
        if (!chosen[self]!.has(next)) {
          chosen[self]!.add(next);
          break;
        }
      }
    });
  }
  return chosen.map((s) => [...s].map((i) => names[i]!).sort());
}

async function standIns(n: number) {
  const names = Array.from({ length: n }, (_, i) => name(i));
  const byIp = new Map(names.map((nm, i) => [ip(i), i]));
  const silent = new Set(names.filter((_, i) => isSilent(i)));
  const targets = assignAllFast(names, K);
  const cache = new Map<number, string>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const i = byIp.get(req.socket.localAddress ?? '');
    if (i === undefined) return void res.writeHead(404).end();
    if (isSilent(i)) return; // accepts, never answers
    const node = names[i]!;
    let body: string;
    if (req.url?.startsWith('/api/v1/ping')) body = JSON.stringify({ node, time: Date.now() });
    else if (req.url?.startsWith('/api/v1/status/local')) {
      body = cache.get(i) ?? JSON.stringify(localStatus(node, targets[i]!, silent));
      cache.set(i, body);
    } else return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  const servers = [http.createServer(handler), http.createServer(handler)];
  for (const s of servers) await new Promise<void>((resolve) => s.listen(0, '0.0.0.0', resolve));
  const [podPort, hostPort] = servers.map((s) => (s.address() as AddressInfo).port) as [number, number];
  return {
    names,
    silent,
    targets,
    podPort,
    hostPort,
    close: () => Promise.all(servers.map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r))))),
  };
}

/** CPU time the process has used, user and system, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function mem(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function measure(artifact: string, n: number) {
  const sim = await standIns(n);
  const storage = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-status-'));
  const config = stringify({
    node: { name: sim.names[0] },
    storage: { path: storage },
    log: { level: 'info' },
    probes: { node: { enabled: false } },
    peers: { discovery: ['static'], static: sim.names.slice(1).map((node, j) => ({ node, pod: `${ip(j + 1)}:${sim.podPort}`, host: `${ip(j + 1)}:${sim.hostPort}` })), hostPort: sim.hostPort, k: K, interval: '10s', timeout: '2s' },
  });
  const agent = await startArtifact(config, { artifact });
  try {
    await sleep(5000); // one mesh round: the agent's own silent targets are known down
    const out = { latencyMs: [] as number[], bytes: 0, answered: [] as number[], notAsked: [] as number[], cpuMs: [] as number[], transientMiB: [] as number[], rssMiB: 0 };
    for (let r = 0; r < REQUESTS; r++) {
      const before = mem(agent.pid).rss;
      writeFileSync(`/proc/${agent.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
      const cpu0 = cpuMs(agent.pid);
      const t0 = performance.now();
      const res = await fetch(`${agent.url}/api/v1/status`);
      const text = await res.text();
      out.latencyMs.push(performance.now() - t0);
      out.cpuMs.push(cpuMs(agent.pid) - cpu0);
      out.transientMiB.push((mem(agent.pid).hwm - before) / 2 ** 20);
      out.bytes = Buffer.byteLength(text);
      const s = JSON.parse(text) as { nodes: { answered: boolean; error: string | null }[] };
      out.answered.push(s.nodes.filter((x) => x.answered).length);
      out.notAsked.push(s.nodes.filter((x) => x.error?.startsWith('not asked')).length);
      out.rssMiB = mem(agent.pid).rss / 2 ** 20;
      await sleep(500);
    }
    return out;
  } finally {
    await agent.stop();
    await sim.close();
    rmSync(storage, { recursive: true, force: true });
  }
}

function mergeTime(n: number): { ms: number; bytes: number } {
  const names = Array.from({ length: n }, (_, i) => name(i));
  const silent = new Set(names.filter((_, i) => isSilent(i)));
  const targets = assignAllFast(names, K);
  const results = new Map<string, FanoutResult>();
  names.forEach((nm, i) => {
    if (silent.has(nm)) results.set(nm, { ok: false, failure: 'timeout', error: 'no answer within the 1000 ms deadline' });
    else {
      const s = localStatus(nm, targets[i]!, silent);
      results.set(nm, { ok: true, status: { ...s, probes: s.probes.map((p) => ({ ...p, observations: null })) } });
    }
  });
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const s = mergeCluster({ asker: names[0]!, time: Date.now(), nodes: names, results, clockOffsetThresholdSeconds: 0.3 });
    times.push(performance.now() - t0);
    bytes = Buffer.byteLength(JSON.stringify(s));
  }
  return { ms: median(times), bytes };
}

console.log(`load before: ${load()} (${os.cpus().length} cores)`);
const sizes = values.sizes.split(',').map(Number);
const beforeSizes = new Set(values['before-sizes'].split(',').map(Number));
console.log('\nGET /api/v1/status, 10 % of peers silent, pod and host paths, k = 10, fan-out timeout 1 s, concurrency 32');
console.log('build  | nodes | latency median / max ms | answer KiB | answered median / min | not asked median | agent CPU ms median | transient RSS median / max MiB | RSS after MiB');
for (let round = 0; round < ROUNDS; round++) {
  for (const n of sizes) {
    for (const [label, artifact] of [['after', values.artifact], ...(values.before && beforeSizes.has(n) ? [['before', values.before]] : [])] as [string, string][]) {
      const m = await measure(artifact, n);
      console.log(
        `${label.padEnd(6)} | ${String(n).padStart(5)} | ${median(m.latencyMs).toFixed(0).padStart(6)} / ${Math.max(...m.latencyMs)
          .toFixed(0)
          .padEnd(
            6,
          )} | ${(m.bytes / 1024).toFixed(0).padStart(10)} | ${String(median(m.answered)).padStart(6)} / ${String(Math.min(...m.answered)).padEnd(6)} | ${String(median(m.notAsked)).padStart(16)} | ${String(median(m.cpuMs)).padStart(19)} | ${median(m.transientMiB).toFixed(1).padStart(6)} / ${Math.max(
          ...m.transientMiB,
        )
          .toFixed(1)
          .padEnd(6)} | ${m.rssMiB.toFixed(1)}`,
      );
    }
  }
}
console.log('\nmerge alone (in process, median of 5), every answer in');
console.log('nodes | merge ms | µs per node × k | answer KiB');
for (const n of sizes) {
  const m = mergeTime(n);
  console.log(`${String(n).padStart(5)} | ${m.ms.toFixed(1).padStart(8)} | ${((m.ms * 1000) / (n * K)).toFixed(2).padStart(15)} | ${(m.bytes / 1024).toFixed(0)}`);
}
console.log(`\nload after: ${load()}`);
