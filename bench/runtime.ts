// What moving the agent to another Node.js costs in memory and CPU: two builds of the shipped
// artifact (e.g. OLD = a Node 20 build with better-sqlite3, NEW = the Node 24 build with node:sqlite),
// each run by its own node binary under the V8 flags of its own bundle's shebang. For each of
// --pairs pairs, every phase runs OLD and NEW one after the other (which goes first alternates from
// pair to pair), each as a fresh agent: --set node, the node probe only (the default), or --set
// deployed, the deployed probe set (Kubernetes discovery, pod-scheduling, apiserver, control-plane,
// etcd) against one real etcd member and the API simulator, both started once and shared by every
// agent of the run (one agent runs at a time):
//
//   idle   --idle seconds untouched: RSS (VmRSS, and its RssAnon/RssFile parts) median of samples
//          every 2 s after the first --warmup seconds, and the agent's CPU (its own
//          process_cpu_seconds_total) as a share of one core over those same seconds;
//   http   --scrapers scrapers of /metrics at 1/s each (spread over the second, keep-alive), all
//          in ONE child process (test/support/scrapers.ts), for --load seconds: scrapes, errors, agent CPU ms per scrape,
//          RSS at the end and its high-water mark (VmHWM, since the agent's start);
//   https  the same over HTTPS with basic auth (web config: a cert for localhost/127.0.0.1 and a
//          bcrypt cost-10 user).
//
// The load phases start 5 s after the agent (node set: its first node probe run has landed) or
// --warmup seconds after it (deployed set: every probe has run and the discovery has settled).
// --phases picks which phases run (default all three, in that order).
//
// Prints a markdown table of the medians over the pairs, OLD, NEW and NEW/OLD, and the machine's
// load average. Exits non-zero with a message when an agent fails to start, dies, runs on another
// Node than expected, or a scrape fails.
//
//   node --import tsx bench/runtime.ts --old-node /usr/bin/node --old <old build>/vigil.mjs \
//     --new-node node_modules/.bin/node --new <new build>/vigil.mjs [--set node|deployed] [--phases idle,http,https]
//     [--pairs 3] [--idle 60] [--warmup 20] [--load 60] [--scrapers 100]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { REPO } from '../test/support/agent-process.ts';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { deployedSetConfig, httpsBasicAuth } from '../test/support/deployed-set.ts';
import { startEtcdCluster, type EtcdCluster } from '../test/support/etcd.ts';
import { httpsGet } from '../test/support/https-get.ts';
import { startScrapers } from '../test/support/scrapers.ts';
import { startArtifact, type Running } from './artifact.ts';
import { procStats, sleep } from './proc.ts';

// The benchmark.

type Phase = 'idle' | 'http' | 'https';
const PHASES: Phase[] = ['idle', 'http', 'https'];

interface Build {
  label: 'OLD' | 'NEW';
  node: string;
  bundle: string;
  version: string;
  /** The V8 flags of the bundle's own shebang. */
  flags: string[];
}

/** The deployed set's shared fixture: the API simulator's kubeconfig and an etcd member. */
interface Deployed {
  kubeconfig: string;
  etcdEndpoint: string;
}

interface Options {
  /** Present for --set deployed. */
  deployed?: Deployed;
  idle: number;
  warmup: number;
  load: number;
  scrapers: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Scrapes that failed, by build and phase: reported after the table, and the run exits non-zero. */
const failures: string[] = [];

/** The deployed set's etcd member and API simulator, when --set deployed started them. */
let etcd: EtcdCluster | undefined;
let sim: ApiSim | undefined;

/** Every process this run started and has not seen end: PID → name. Ended by PID on the way out. */
const live = new Map<number, string>();
/** Temporary directories of the agents now running: removed on the way out too. */
const dirs = new Set<string>();

/** Stops the deployed set's etcd member and API simulator. */
async function stopFixture(): Promise<void> {
  await sim?.stop();
  await etcd?.stop();
  sim = undefined;
  etcd = undefined;
}

function endAll(): void {
  for (const [pid, name] of live) {
    try {
      process.kill(pid, 'SIGKILL');
      console.error(`runtime bench: killed ${name} (PID ${pid})`);
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** /proc/<pid>/status memory figures, in MiB. */
function memory(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) / 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM'), anon: kib('RssAnon'), file: kib('RssFile') };
}

interface Target {
  /** http(s)://127.0.0.1:<port> */
  base: string;
  tls?: { caFile: string; user: string; password: string };
}

async function getMetrics(t: Target): Promise<string> {
  if (t.tls) {
    const r = await httpsGet(`${t.base}/metrics`, { ca: readFileSync(t.tls.caFile), auth: `${t.tls.user}:${t.tls.password}`, timeoutMs: 30_000 });
    if (r.status !== 200) throw new Error(`GET ${t.base}/metrics answered ${r.status}`);
    return r.body;
  }
  const r = await fetch(`${t.base}/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (!r.ok) throw new Error(`GET ${t.base}/metrics answered ${r.status}`);
  return r.text();
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`the agent's /metrics has no ${name}`);
  return Number(m[1]);
}

const agentCpu = async (t: Target) => metricValue(await getMetrics(t), 'process_cpu_seconds_total');

function assertAlive(agent: Running, build: Build, phase: Phase): void {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
    throw new Error(`${build.label} agent (PID ${agent.pid}) died during ${phase} (exit ${agent.child.exitCode ?? agent.child.signalCode}):\n${agent.logs.slice(-30).join('\n')}`);
  }
}

async function stopAgent(agent: Running): Promise<void> {
  const killer = setTimeout(() => {
    try {
      process.kill(agent.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, 15_000);
  await agent.stop(); // SIGTERM by its PID, then waits for the exit
  clearTimeout(killer);
  live.delete(agent.pid);
}

/** One fresh agent of `build` through one phase; the figures it yields, by table row key. */
async function runOne(build: Build, phase: Phase, opts: Options): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vigil-runtime-${build.label.toLowerCase()}-`));
  dirs.add(dir);
  const tls = phase === 'https' ? httpsBasicAuth(dir) : undefined;
  const storage = path.join(dir, 'data');
  const config = opts.deployed
    ? deployedSetConfig({ node: 'bench', storage, kubeconfig: opts.deployed.kubeconfig, etcdEndpoint: opts.deployed.etcdEndpoint, ...(tls ? { webConfigFile: tls.webConfigFile } : {}) })
    : stringify({ node: { name: 'bench' }, storage: { path: storage }, ...(tls ? { web: { configFile: tls.webConfigFile } } : {}) });
  let agent: Running | undefined;
  try {
    agent = await startArtifact(config, { artifact: build.bundle, prefix: [build.node, ...build.flags], timeoutMs: 60_000 });
    live.set(agent.pid, `${build.label} agent`);
    const t: Target = { base: tls ? agent.url.replace('http:', 'https:') : agent.url, tls };
    const started = performance.now();
    // The first scrape: checks the agent runs on the node it should (and compiles the scrape path before anything is measured).
    const first = await getMetrics(t);
    const major = build.version.replace(/^v/, '').split('.')[0];
    if (!new RegExp(`^nodejs_version_info\\{[^}]*major="${major}"`, 'm').test(first)) {
      throw new Error(`${build.label} agent does not report Node ${build.version} in nodejs_version_info`);
    }
    if (phase === 'idle') {
      await sleep(Math.max(0, opts.warmup * 1000 - (performance.now() - started)));
      const cpu0 = await agentCpu(t);
      const proc0 = procStats(agent.pid).cpuSeconds;
      const w0 = performance.now();
      const samples: ReturnType<typeof memory>[] = [];
      for (let at = opts.warmup; at <= opts.idle; at += 2) {
        await sleep(Math.max(0, at * 1000 - (performance.now() - started)));
        assertAlive(agent, build, phase);
        samples.push(memory(agent.pid));
      }
      const cpu1 = await agentCpu(t);
      const secs = (performance.now() - w0) / 1000;
      const med = (k: 'rss' | 'anon' | 'file') => median(samples.map((s) => s[k]));
      return {
        idleRss: med('rss'),
        idleAnon: med('anon'),
        idleFile: med('file'),
        idleCpu: ((cpu1 - cpu0) / secs) * 100,
        idleCpuProc: ((procStats(agent.pid).cpuSeconds - proc0) / secs) * 100,
      };
    }
    // The node probe's first run (node set), or every probe's first runs (deployed set), land before the load starts.
    await sleep(Math.max(0, (opts.deployed ? opts.warmup : 5) * 1000 - (performance.now() - started)));
    const cpu0 = await agentCpu(t);
    const scrapers = tls
      ? startScrapers({ url: `${t.base}/metrics`, caFile: tls.caFile, user: tls.user, password: tls.password, scrapers: opts.scrapers, seconds: opts.load })
      : startScrapers({ url: `${t.base}/metrics`, scrapers: opts.scrapers, seconds: opts.load });
    live.set(scrapers.pid, `${phase} scrapers`);
    let overdue: NodeJS.Timeout | undefined;
    const tally = await Promise.race([
      scrapers.done,
      new Promise<never>((_, reject) => (overdue = setTimeout(() => reject(new Error(`the ${phase} scrapers (PID ${scrapers.pid}) did not finish within ${opts.load + 90} s`)), (opts.load + 90) * 1000))),
    ]).finally(() => clearTimeout(overdue));
    live.delete(scrapers.pid);
    assertAlive(agent, build, phase);
    const cpu1 = await agentCpu(t);
    const mem = memory(agent.pid);
    const errors = Object.values(tally.errors).reduce((a, b) => a + b, 0) + tally.incomplete;
    if (errors > 0) failures.push(`${build.label} ${phase}: ${errors} failed scrapes ${JSON.stringify(tally)}`);
    return {
      [`${phase}Scrapes`]: tally.ok,
      [`${phase}Errors`]: errors,
      [`${phase}CpuMs`]: ((cpu1 - cpu0) * 1000) / Math.max(1, tally.ok),
      [`${phase}Rss`]: mem.rss,
      [`${phase}Hwm`]: mem.hwm,
    };
  } finally {
    if (agent) await stopAgent(agent);
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

const ROWS: { key: string; what: string; digits: number }[] = [
  { key: 'idleRss', what: 'idle: RSS median (MiB)', digits: 1 },
  { key: 'idleAnon', what: 'idle: RssAnon median (MiB)', digits: 1 },
  { key: 'idleFile', what: 'idle: RssFile median (MiB)', digits: 1 },
  { key: 'idleCpu', what: 'idle: CPU (% of a core)', digits: 3 },
  { key: 'httpScrapes', what: 'HTTP: scrapes', digits: 0 },
  { key: 'httpErrors', what: 'HTTP: errors', digits: 0 },
  { key: 'httpCpuMs', what: 'HTTP: agent CPU per scrape (ms)', digits: 2 },
  { key: 'httpRss', what: 'HTTP: RSS at end (MiB)', digits: 1 },
  { key: 'httpHwm', what: 'HTTP: VmHWM (MiB)', digits: 1 },
  { key: 'httpsScrapes', what: 'HTTPS+auth: scrapes', digits: 0 },
  { key: 'httpsErrors', what: 'HTTPS+auth: errors', digits: 0 },
  { key: 'httpsCpuMs', what: 'HTTPS+auth: agent CPU per scrape (ms)', digits: 2 },
  { key: 'httpsRss', what: 'HTTPS+auth: RSS at end (MiB)', digits: 1 },
  { key: 'httpsHwm', what: 'HTTPS+auth: VmHWM (MiB)', digits: 1 },
];

/** The node binary's version, and the V8 flags of the bundle's shebang (`#!/usr/bin/env -S node <flags>`). */
function describeBuild(label: Build['label'], node: string | undefined, bundle: string | undefined): Build {
  if (!node || !bundle) throw new Error(`--${label.toLowerCase()}-node and --${label.toLowerCase()} are required`);
  if (!existsSync(node)) throw new Error(`${label} node ${node} does not exist`);
  if (!existsSync(bundle)) throw new Error(`${label} bundle ${bundle} does not exist (build it first)`);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const shebang = readFileSync(bundle, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node(?: (.*))?$/.exec(shebang);
  if (!m) throw new Error(`${bundle} does not start with a \`#!/usr/bin/env -S node …\` shebang: ${shebang}`);
  return { label, node: path.resolve(node), bundle: path.resolve(bundle), version, flags: (m[1] ?? '').split(/\s+/).filter(Boolean) };
}

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'old-node': { type: 'string' },
      old: { type: 'string' },
      'new-node': { type: 'string' },
      new: { type: 'string' },
      pairs: { type: 'string', default: '3' },
      idle: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '20' },
      load: { type: 'string', default: '60' },
      scrapers: { type: 'string', default: '100' },
      set: { type: 'string', default: 'node' },
      phases: { type: 'string', default: PHASES.join(',') },
    },
  });
  if (values.set !== 'node' && values.set !== 'deployed') throw new Error(`--set must be node or deployed, not ${values.set}`);
  const phases = values.phases.split(',').map((p) => p.trim());
  const unknown = phases.filter((p) => !(PHASES as string[]).includes(p));
  if (unknown.length > 0 || phases.length === 0) throw new Error(`--phases takes a comma-separated list of ${PHASES.join(', ')}; got ${values.phases}`);
  const opts: Options = { idle: Number(values.idle), warmup: Number(values.warmup), load: Number(values.load), scrapers: Number(values.scrapers) };
  const pairs = Number(values.pairs);
  for (const [k, v] of Object.entries({ pairs, idle: opts.idle, warmup: opts.warmup, load: opts.load, scrapers: opts.scrapers })) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  if (opts.warmup >= opts.idle) throw new Error('--warmup must be shorter than --idle');
  const builds = [describeBuild('OLD', values['old-node'], values.old), describeBuild('NEW', values['new-node'], values.new)];
  process.chdir(REPO); // the scrapers' children resolve tsx from here
  if (values.set === 'deployed') {
    etcd = await startEtcdCluster(1);
    sim = await ApiSim.start({ nodes: ['bench'] });
    const kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-runtime-kube-')), 'kubeconfig'), { server: sim.url, token: sim.token });
    dirs.add(path.dirname(kubeconfig));
    opts.deployed = { kubeconfig, etcdEndpoint: etcd.endpoints[0]! };
  }

  const startLoad = os.loadavg();
  console.log(`${os.cpus().length} cores; load average (1/5/15 min) at start ${fmtLoad(startLoad)}`);
  for (const b of builds) console.log(`${b.label}: ${b.node} (${b.version}) ${b.flags.join(' ')} ${b.bundle}`);
  console.log(
    `${values.set === 'deployed' ? 'deployed probe set (etcd member and API simulator shared by every agent)' : 'node probe only'}; ${pairs} pairs; phases ${phases.join(', ')}: idle ${opts.idle} s (samples from ${opts.warmup} s); ${opts.scrapers} scrapers at 1/s for ${opts.load} s over HTTP or HTTPS + basic auth\n`,
  );

  const results: Record<Build['label'], Record<string, number[]>> = { OLD: {}, NEW: {} };
  const loads1m: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? builds : [...builds].reverse();
    for (const phase of phases as Phase[]) {
      for (const build of order) {
        const l = os.loadavg();
        loads1m.push(l[0]!);
        const r = await runOne(build, phase, opts);
        for (const [k, v] of Object.entries(r)) (results[build.label][k] ??= []).push(v);
        console.log(
          `pair ${p + 1} ${phase.padEnd(5)} ${build.label}: ${Object.entries(r)
            .map(([k, v]) => `${k}=${+v.toFixed(3)}`)
            .join(' ')}  (load ${fmtLoad(l)})`,
        );
      }
    }
  }

  const endLoad = os.loadavg();
  const [oldB, newB] = builds as [Build, Build];
  console.log(`\nMedians over ${pairs} pairs:\n`);
  console.log(`| | OLD (${oldB.version}) | NEW (${newB.version}) | NEW/OLD |`);
  console.log('|---|---:|---:|---:|');
  for (const row of ROWS.filter((r) => results.OLD[r.key] || results.NEW[r.key])) {
    const o = median(results.OLD[row.key] ?? []);
    const n = median(results.NEW[row.key] ?? []);
    const ratio = o > 0 && Number.isFinite(n) ? (n / o).toFixed(2) : '–';
    console.log(`| ${row.what} | ${o.toFixed(row.digits)} | ${n.toFixed(row.digits)} | ${ratio} |`);
  }
  if (phases.includes('idle')) {
    const cross = ['OLD', 'NEW'].map((l) => `${l} ${median(results[l as Build['label']].idleCpuProc ?? []).toFixed(3)}%`).join(', ');
    console.log(`\nidle CPU from /proc/<pid>/stat over the same window (cross-check; 10 ms ticks): ${cross}`);
  }
  const sorted1m = [...loads1m].sort((a, b) => a - b);
  console.log(
    `load average (1/5/15 min): at start ${fmtLoad(startLoad)}, at end ${fmtLoad(endLoad)}; 1-min at each agent's start: median ${median(loads1m).toFixed(2)}, range ${sorted1m[0]!.toFixed(2)}–${sorted1m.at(-1)!.toFixed(2)} on ${os.cpus().length} cores`,
  );
  if (failures.length > 0) throw new Error(`scrapes failed:\n  ${failures.join('\n  ')}`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`runtime bench: ${sig}, ending the processes it started`);
    endAll();
    void stopFixture().finally(() => process.exit(1));
  });
}
try {
  await main();
} catch (err) {
  console.error(`runtime bench failed: ${err instanceof Error ? err.message : String(err)}`);
  endAll();
  process.exitCode = 1;
} finally {
  await stopFixture();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
