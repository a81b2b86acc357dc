// The agent's steady RSS and CPU over 60 s at default intervals, then /metrics latency under 50
// concurrent scrapers: open loop (each a curl process scraping once a second, staggered, as a fleet
// of Prometheus servers would) and closed loop (each scrapes again as soon as it has an answer: saturation).
// Runs the compiled agent as the image does.
// Run: npm run build && node --import tsx bench/scrape.ts [--scrapers 50] [--seconds 20] [--idle 60] [--node-flags=...]
import { mkdtempSync, rmSync } from 'node:fs';
import { mib, procStats, sleep } from './proc.ts';
import { execFile } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnAgent, type AgentProcess } from '../test/support/agent-process.ts';

const { values } = parseArgs({
  options: { scrapers: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' }, idle: { type: 'string', default: '60' }, 'node-flags': { type: 'string', default: '' } },
});
const scrapers = Number(values.scrapers);
const loadSeconds = Number(values.seconds);
const idleSeconds = Number(values.idle);
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function withAgent<T>(fn: (agent: AgentProcess) => Promise<T>): Promise<T> {
  const storage = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const agent = await spawnAgent({ args: ['--storage.path', storage], built: true, nodeFlags });
  try {
    await sleep(3000); // let the first probe runs land
    return await fn(agent);
  } finally {
    agent.kill('SIGTERM');
    await agent.exited;
    rmSync(storage, { recursive: true, force: true });
  }
}

/** Closed loop: scrapers in this process, each scraping again as soon as it has an answer. */
async function closedLoop(agent: AgentProcess) {
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: scrapers });
  const url = new URL('/metrics', agent.url);
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      http
        .get(url, { agent: keepAlive }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  const latencies: number[] = [];
  let errors = 0;
  const before = procStats(agent.pid);
  const start = Date.now();
  const end = start + loadSeconds * 1000;
  await Promise.all(
    Array.from({ length: scrapers }, async () => {
      while (Date.now() < end) {
        try {
          latencies.push(await get());
        } catch {
          errors++;
        }
      }
    }),
  );
  keepAlive.destroy();
  report('closed loop (in-process client)', latencies, errors, before, procStats(agent.pid), (Date.now() - start) / 1000);
}

/**
 * Open loop: each scraper is its own process (curl, once a second, staggered), so the client's
 * own event loop does not add to the latency it measures.
 */
async function openLoop(agent: AgentProcess) {
  const url = `${agent.url}/metrics`;
  const before = procStats(agent.pid);
  const start = Date.now();
  const script = `sleep "$1"; end=$(( $(date +%s) + ${loadSeconds} )); while [ "$(date +%s)" -lt "$end" ]; do curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' "${url}"; sleep 1; done`;
  const outputs = await Promise.all(
    Array.from(
      { length: scrapers },
      (_, i) =>
        new Promise<string>((resolve, reject) => {
          execFile('sh', ['-c', script, 'scraper', (i / scrapers).toFixed(3)], { timeout: (loadSeconds + 30) * 1000 }, (err: Error | null, stdout: string) => (err ? reject(err) : resolve(stdout)));
        }),
    ),
  );
  const latencies: number[] = [];
  let errors = 0;
  for (const line of outputs.join('').split('\n').filter(Boolean)) {
    const [code, secs] = line.split(' ');
    if (code === '200') latencies.push(Number(secs) * 1000);
    else errors++;
  }
  report('open loop (curl processes, 1 scrape/s each)', latencies, errors, before, procStats(agent.pid), (Date.now() - start) / 1000);
}

function report(what: string, latencies: number[], errors: number, before: { cpuSeconds: number }, after: { cpuSeconds: number }, secs: number) {
  latencies.sort((a, b) => a - b);
  console.log(
    `${what}, ${scrapers} scrapers, ${loadSeconds} s: ${latencies.length} scrapes (${(latencies.length / secs).toFixed(0)}/s), ${errors} errors; ` +
      `latency p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms; ` +
      `agent CPU ${(((after.cpuSeconds - before.cpuSeconds) / secs) * 100).toFixed(0)}% of a core`,
  );
}

console.log(
  `agent: node ${nodeFlags.join(' ')} dist/vigil.mjs agent (defaults: the node probe every 30 s); load average at start ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${os.cpus().length} cores`,
);
await withAgent(async (agent) => {
  const start = procStats(agent.pid);
  const rss: number[] = [];
  for (let i = 0; i < idleSeconds; i++) {
    await sleep(1000);
    rss.push(procStats(agent.pid).rssBytes);
  }
  const end = procStats(agent.pid);
  const sorted = [...rss].sort((a, b) => a - b);
  console.log(
    `steady state over ${idleSeconds} s: RSS median ${mib(quantile(sorted, 0.5))} MiB (first ${mib(rss[0]!)}, last ${mib(rss.at(-1)!)}, max ${mib(sorted.at(-1)!)}); CPU ${(((end.cpuSeconds - start.cpuSeconds) / idleSeconds) * 100).toFixed(2)}% of a core`,
  );
});
await withAgent(openLoop);
await withAgent(closedLoop);
