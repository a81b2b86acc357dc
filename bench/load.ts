/**
 * Load benchmark: many concurrent scrapers against an agent running as a child process, with its
 * probes on against a real etcd and the Kubernetes API simulator. Reports /metrics latency (one scraper, then many, side by side in one run), errors,
 * whether the probes kept their schedule, and the agent's memory.
 *
 *   node --import tsx bench/load.ts                      # plain HTTP
 *   VIGIL_BENCH_TLS=1 node --import tsx bench/load.ts    # HTTPS with basic auth (web config)
 *
 * VIGIL_BENCH_SECONDS (default 60) and VIGIL_BENCH_SCRAPERS (default 100) change the load;
 * VIGIL_BENCH_PACE_MS (default 1000) is how often each scraper scrapes at most (0: back to back,
 * which saturates the agent's event loop: a stress figure, not a Prometheus-like one).
 */
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { makeCa, makeCert } from '../test/support/tls-certs.ts';
import { spawnAgent } from '../test/support/agent-process.ts';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { startEtcdCluster } from '../test/support/etcd.ts';

const SECONDS = Number(process.env.VIGIL_BENCH_SECONDS ?? 60);
const SCRAPERS = Number(process.env.VIGIL_BENCH_SCRAPERS ?? 100);
const TLS = process.env.VIGIL_BENCH_TLS === '1';
const PACE_MS = Number(process.env.VIGIL_BENCH_PACE_MS ?? 1000);
/** Probe name → interval in seconds: every probe the agent runs during the benchmark (DNS needs a cluster resolver, so it is off). */
const PROBES: Record<string, number> = { node: 1, etcd: 1, apiserver: 1, 'control-plane': 2, 'pod-scheduling': 5 };
/** A run is late when it starts more than this factor of the interval after the previous one (jitter is ±10%). */
const LATE_FACTOR = 1.25;

interface Target {
  url: string;
  agent: http.Agent;
  ca?: Buffer;
  auth?: string;
}

function get(t: Target, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = t.url.startsWith('https') ? https : http;
    const req = mod.request(`${t.url}${p}`, { agent: t.agent, ca: t.ca, auth: t.auth, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** `scrapers` loops scraping /metrics back to back for `seconds`; latencies in ms. */
async function scrape(t: Target, scrapers: number, seconds: number, paceMs: number): Promise<{ latencies: number[]; errors: Map<string, number> }> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const end = Date.now() + seconds * 1000;
  const loop = async () => {
    // Scrapers start spread over one pace period, as independent Prometheus servers would.
    await new Promise((r) => setTimeout(r, Math.random() * paceMs));
    while (Date.now() < end) {
      const start = performance.now();
      try {
        const r = await get(t, '/metrics');
        if (r.status !== 200 || !r.body.includes('vigil_build_info')) errors.set(`HTTP ${r.status}`, (errors.get(`HTTP ${r.status}`) ?? 0) + 1);
        else latencies.push(performance.now() - start);
      } catch (err) {
        const key = (err as Error).message;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
      const wait = paceMs - (performance.now() - start);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  await Promise.all(Array.from({ length: scrapers }, loop));
  return { latencies: latencies.sort((a, b) => a - b), errors };
}

/** Polls the local status while the load runs and collects each probe's run start times. */
async function watchRuns(t: Target, seconds: number): Promise<Map<string, Set<number>>> {
  const seen = new Map<string, Set<number>>();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    try {
      const status = JSON.parse((await get(t, '/api/v1/status/local')).body) as { probes: { name: string; lastRun: string | null; durationSeconds: number | null }[] };
      for (const p of status.probes) {
        if (p.lastRun) (seen.get(p.name) ?? seen.set(p.name, new Set()).get(p.name)!).add(Date.parse(p.lastRun) - Math.round((p.durationSeconds ?? 0) * 1000));
      }
    } catch {
      // counted by the scrapers; the watcher only samples
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

function sample(metrics: string, name: string, probe?: string): number {
  const m = new RegExp(`^${name}${probe === undefined ? '' : `\\{probe="${probe}"\\}`} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : NaN;
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
  const etcd = await startEtcdCluster(1);
  const sim = await ApiSim.start({ nodes: ['bench'] });
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const extra: Record<string, string> = { etcd: `    endpoints: ["${etcd.endpoints[0]}"]\n`, 'pod-scheduling': '    timeout: 4s\n' };
  const probeYaml = Object.entries(PROBES)
    .map(([name, s]) => `  ${name}:\n    enabled: true\n    interval: ${s}s\n${extra[name] ?? ''}`)
    .join('');
  let config = `node:\n  name: bench\nstorage:\n  path: ${dir}/data\nkubernetes:\n  kubeconfig: ${kubeconfig}\n  namespace: vigil\nprobes:\n${probeYaml}`;
  let ca: Buffer | undefined;
  if (TLS) {
    const caPair = makeCa(dir, 'ca');
    const srv = makeCert(dir, 'server', caPair, 'localhost');
    ca = readFileSync(caPair.cert);
    writeFileSync(path.join(dir, 'web.yml'), `tls_server_config:\n  cert_file: ${srv.cert}\n  key_file: ${srv.key}\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 10)}\n`);
    config += `web:\n  configFile: ${dir}/web.yml\n`;
  }
  const agentProc = await spawnAgent({ config }).catch(async (err: unknown) => {
    await sim.stop();
    await etcd.stop();
    throw err;
  });
  const keepAlive = { keepAlive: true, maxSockets: SCRAPERS };
  const t: Target = { url: TLS ? agentProc.url.replace('http:', 'https:') : agentProc.url, agent: TLS ? new https.Agent(keepAlive) : new http.Agent(keepAlive), ca, auth: TLS ? 'prometheus:s3cret' : undefined };
  try {
    const first = await get(t, '/metrics');
    if (first.status !== 200) throw new Error(`first scrape answered ${first.status}`);
    // Measure once every probe has reported.
    for (let i = 0; i < 60; i++) {
      const s = JSON.parse((await get(t, '/api/v1/status/local')).body) as { probes: { verdict: string }[] };
      if (s.probes.every((p) => p.verdict !== 'unknown')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rssStart = rssMiB(agentProc.pid);
    const baseline = await scrape(t, 1, Math.min(10, SECONDS), 0);

    const before = (await get(t, '/metrics')).body;
    const started = Date.now();
    const watching = watchRuns(t, SECONDS);
    const loaded = await scrape(t, SCRAPERS, SECONDS, PACE_MS);
    const elapsed = (Date.now() - started) / 1000;
    const starts = await watching;
    const after = (await get(t, '/metrics')).body;
    const rssEnd = rssMiB(agentProc.pid);

    const schedule = Object.keys(PROBES).map((p) => {
      const runs = sample(after, 'vigil_probe_runs_total', p) - sample(before, 'vigil_probe_runs_total', p);
      const skipped = sample(after, 'vigil_probe_skipped_runs_total', p) - sample(before, 'vigil_probe_skipped_runs_total', p);
      const expected = elapsed / PROBES[p]!;
      const times = [...(starts.get(p) ?? [])].sort((a, b) => a - b);
      const gaps = times.slice(1).map((x, i) => x - times[i]!);
      const late = gaps.filter((g) => g > PROBES[p]! * 1000 * LATE_FACTOR).length;
      return {
        probe: p,
        runs,
        expected: Number(expected.toFixed(1)),
        skipped,
        missingPct: Number((Math.max(0, 1 - runs / expected) * 100).toFixed(1)),
        observedRuns: times.length,
        latePct: Number(((late / Math.max(1, gaps.length)) * 100).toFixed(1)),
        maxGapMs: Math.max(0, ...gaps),
      };
    });
    const fmt = (r: { latencies: number[]; errors: Map<string, number> }, secs: number) => ({
      requests: r.latencies.length,
      perSecond: Math.round(r.latencies.length / secs),
      p50ms: Number(quantile(r.latencies, 0.5).toFixed(2)),
      p99ms: Number(quantile(r.latencies, 0.99).toFixed(2)),
      maxMs: Number((r.latencies.at(-1) ?? NaN).toFixed(1)),
      errors: Object.fromEntries(r.errors),
    });
    const cpu = sample(after, 'process_cpu_seconds_total') - sample(before, 'process_cpu_seconds_total');
    const report = {
      mode: TLS ? 'https + basic auth' : 'http',
      seconds: SECONDS,
      scrapers: SCRAPERS,
      paceMs: PACE_MS,
      metricsBytes: Buffer.byteLength(after),
      oneScraper: fmt(baseline, Math.min(10, SECONDS)),
      loaded: fmt(loaded, elapsed),
      // The agent's own CPU time: what the load cost it, whatever else the machine was doing.
      agentCpu: { seconds: Number(cpu.toFixed(2)), perScrapeMs: Number(((cpu * 1000) / Math.max(1, loaded.latencies.length)).toFixed(3)), shareOfOneCore: Number((cpu / elapsed).toFixed(2)) },
      machineLoadAvg1m: Number(loadavg()[0]!.toFixed(1)),
      schedule,
      verdicts: Object.fromEntries((JSON.parse((await get(t, '/api/v1/status/local')).body) as { probes: { name: string; verdict: string }[] }).probes.map((p) => [p.name, p.verdict])),
      rssMiB: { start: Number(rssStart.toFixed(1)), end: Number(rssMiB(agentProc.pid).toFixed(1)), afterLoad: Number(rssEnd.toFixed(1)) },
      agentAlive: agentProc.child.exitCode === null,
    };
    console.log(JSON.stringify(report, null, 2));
    const failed = loaded.errors.size > 0 || schedule.some((s) => s.missingPct >= 10 || s.latePct >= 10) || !report.agentAlive;
    process.exitCode = failed ? 1 : 0;
  } finally {
    t.agent.destroy();
    agentProc.kill('SIGTERM');
    await agentProc.exited;
    await sim.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
