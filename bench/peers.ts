// The peer mesh's cost to one agent with 10, 100 and 1000 known peers (three agents side by side,
// CPU and RSS over the same windows), and the latency of GET /api/v1/status with 100 peers of
// which 10 never answer. Stand-in peers are lightweight HTTP responders on 127.0.0.1.
// Run: npm run build && node --import tsx bench/peers.ts [--seconds 20] [--windows 3] [--interval 1s]
import { mkdtempSync, rmSync } from 'node:fs';
import { mib, procStats, sleep } from './proc.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { assignPeers } from '../src/peers/assign.ts';
import { spawnAgent, type AgentProcess } from '../test/support/agent-process.ts';
import { startResponders } from '../test/support/responders.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, windows: { type: 'string', default: '3' }, interval: { type: 'string', default: '1s' } } });
const seconds = Number(values.seconds);
const windows = Number(values.windows);
const K = 10;
const SIZES = [10, 100, 1000];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, '0')}`);
const dirs: string[] = [];
const agents: AgentProcess[] = [];
const closers: (() => Promise<void>)[] = [];

async function startAgentWith(peers: { node: string; pod: string }[], extra: Record<string, unknown> = {}): Promise<AgentProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-peers-'));
  dirs.push(dir);
  const config = stringify({ node: { name: 'self' }, storage: { path: dir }, log: { level: 'info' }, peers: { discovery: ['static'], static: peers, k: K, interval: values.interval, timeout: '500ms', ...extra } });
  const agent = await spawnAgent({ config, built: true });
  agents.push(agent);
  return agent;
}

/** An agent knowing n peers; only the k it pings get a responder, the rest are never contacted. */
async function meshAgent(n: number) {
  const all = names(n);
  const targets = assignPeers('self', all, K);
  const sim = await startResponders(targets);
  closers.push(() => sim.close());
  const peers = all.map((node) => ({ node, pod: `127.0.0.1:${sim.responders.get(node)?.port ?? 9}` }));
  return { n, sim, agent: await startAgentWith(peers) };
}

try {
  console.log(
    `load before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const runs = [];
  for (const n of SIZES) runs.push(await meshAgent(n)); // one at a time: a failed start leaves nothing running
  await sleep(5000);
  const cpu = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const rss = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const pings = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  for (let w = 0; w < windows; w++) {
    const before = runs.map((r) => ({ s: procStats(r.agent.pid), hits: [...r.sim.responders.values()].reduce((a, x) => a + x.hits.length, 0) }));
    await sleep(seconds * 1000);
    runs.forEach((r, i) => {
      const s = procStats(r.agent.pid);
      cpu.get(r.n)!.push(((s.cpuSeconds - before[i]!.s.cpuSeconds) / seconds) * 100);
      rss.get(r.n)!.push(s.rssBytes);
      pings.get(r.n)!.push(([...r.sim.responders.values()].reduce((a, x) => a + x.hits.length, 0) - before[i]!.hits) / seconds);
    });
  }
  console.log(`\nmesh cost, ${windows} windows of ${seconds} s, interval ${values.interval}, k=${K} (medians)`);
  console.log('known peers | CPU % of a core | RSS MiB | pings/s | peer_up series');
  for (const r of runs) {
    const metrics = await (await fetch(`${r.agent.url}/metrics`)).text();
    const series = metrics.split('\n').filter((l) => l.startsWith('vigil_peer_up{')).length;
    console.log(`${String(r.n).padStart(11)} | ${median(cpu.get(r.n)!).toFixed(2).padStart(15)} | ${mib(median(rss.get(r.n)!)).padStart(7)} | ${median(pings.get(r.n)!).toFixed(1).padStart(7)} | ${series}`);
  }
  const at = (n: number) => median(cpu.get(n)!);
  console.log(`CPU ratio 1000/100: ${(at(1000) / at(100)).toFixed(2)}; RSS ratio 1000/100: ${(median(rss.get(1000)!) / median(rss.get(100)!)).toFixed(2)}`);
  for (const a of agents.splice(0)) {
    a.kill('SIGTERM');
    await a.exited;
  }

  // cluster status: 90 answering peers, 10 that accept connections and never answer
  const answering = names(90);
  const sim = await startResponders(answering);
  closers.push(() => sim.close());
  const silent: http.Server[] = [];
  for (let i = 0; i < 10; i++) {
    const s = http.createServer(() => undefined);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    silent.push(s);
  }
  closers.push(async () => {
    for (const s of silent) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const peers = [...answering.map((node) => ({ node, pod: `127.0.0.1:${sim.responders.get(node)!.port}` })), ...silent.map((s, i) => ({ node: `silent-${i}`, pod: `127.0.0.1:${(s.address() as AddressInfo).port}` }))];
  const agent = await startAgentWith(peers, { interval: '10s', timeout: '2s' });
  await sleep(2000);
  const latencies: number[] = [];
  let unanswered = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const s = (await (await fetch(`${agent.url}/api/v1/status`)).json()) as { nodes: { answered: boolean }[] };
    latencies.push(performance.now() - t0);
    unanswered = s.nodes.filter((x) => !x.answered).length;
  }
  console.log(`\ncluster status with 100 peers, 10 silent (fan-out timeout 1 s, concurrency 32), 7 requests`);
  console.log(`latency median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; nodes unanswered: ${unanswered}`);
  console.log(
    `load after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const a of agents) {
    a.kill('SIGTERM');
    await a.exited;
  }
  for (const c of closers) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
