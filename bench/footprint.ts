// Memory side by side, in one run: Debian's prometheus-node-exporter and prometheus-blackbox-exporter,
// the agent with the node probe only, and the agent with the deployed probe set (Kubernetes
// discovery, pod-scheduling, apiserver, control-plane, etcd; against a real etcd and the API
// simulator), all from the shipped artifact. First `--idle` seconds untouched (RSS sampled every
// 5 s), then `--load` seconds of 100 HTTPS + basic-auth scrapers at 1/s on the deployed agent; the
// agents' high-water mark (VmHWM) covers everything from their start.
//
//   npm run build && node --import tsx bench/footprint.ts [--idle 120] [--load 300] [--scrapers 100] [--baseline <other build>/vigil.mjs]
//
// --baseline: the same two agents from another build (e.g. main's, `node scripts/build.mjs --outdir`)
// run beside them through the idle part, for a before/after in one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { deployedSetConfig, httpsBasicAuth } from '../test/support/deployed-set.ts';
import { freePort, startEtcdCluster } from '../test/support/etcd.ts';
import { startScrapers } from '../test/support/scrapers.ts';
import { SHIPPED, startArtifact, type Running } from './artifact.ts';

const { values } = parseArgs({ options: { idle: { type: 'string', default: '120' }, load: { type: 'string', default: '300' }, scrapers: { type: 'string', default: '100' }, baseline: { type: 'string' } } });
const IDLE = Number(values.idle);
const LOAD = Number(values.load);
const SCRAPERS = Number(values.scrapers);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function mem(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(s)?.[1] ?? NaN) / 1024;
  return { rss: mib('VmRSS'), hwm: mib('VmHWM') };
}
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-footprint-'));
const procs: ChildProcess[] = [];
const agents: Running[] = [];
const etcd = await startEtcdCluster(1);
const sim = await ApiSim.start({ nodes: ['bench'] });
try {
  console.log(`load before: ${load()} (${os.cpus().length} cores)`);
  const exporters: [string, string[]][] = [
    ['node_exporter', ['prometheus-node-exporter', `--web.listen-address=127.0.0.1:${await freePort()}`]],
    ['blackbox_exporter', ['prometheus-blackbox-exporter', '--config.file=/etc/prometheus/blackbox.yml', `--web.listen-address=127.0.0.1:${await freePort()}`]],
  ];
  const rows: { name: string; pid: number }[] = [];
  for (const [name, cmd] of exporters) {
    const p = spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
    procs.push(p);
    rows.push({ name, pid: p.pid! });
  }
  const nodeOnly = await startArtifact(stringify({ node: { name: 'bench' }, storage: { path: path.join(dir, 'node-only') } }));
  agents.push(nodeOnly);
  rows.push({ name: 'vigil, node probe only', pid: nodeOnly.pid });

  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const auth = httpsBasicAuth(dir);
  const deployed = await startArtifact(deployedSetConfig({ node: 'bench', storage: path.join(dir, 'deployed'), kubeconfig, etcdEndpoint: etcd.endpoints[0]!, webConfigFile: auth.webConfigFile }));
  agents.push(deployed);
  rows.push({ name: 'vigil, deployed probe set', pid: deployed.pid });

  if (values.baseline) {
    const base = path.resolve(values.baseline);
    const bNodeOnly = await startArtifact(stringify({ node: { name: 'bench' }, storage: { path: path.join(dir, 'base-node-only') } }), { artifact: base });
    const bDeployed = await startArtifact(deployedSetConfig({ node: 'bench', storage: path.join(dir, 'base-deployed'), kubeconfig, etcdEndpoint: etcd.endpoints[0]!, webConfigFile: auth.webConfigFile }), { artifact: base });
    agents.push(bNodeOnly, bDeployed);
    rows.push({ name: 'baseline: vigil, node probe only', pid: bNodeOnly.pid }, { name: 'baseline: vigil, deployed probe set', pid: bDeployed.pid });
    console.log(`baseline ${base}: ${readFileSync(base, 'utf8').split('\n', 1)[0]}`);
  }
  console.log(`shipped: ${readFileSync(SHIPPED, 'utf8').split('\n', 1)[0]}`);
  const samples = new Map<number, number[]>(rows.map((r) => [r.pid, []]));
  const cpu0 = new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
  for (let t = 0; t < IDLE; t += 5) {
    await sleep(5000);
    for (const r of rows) samples.get(r.pid)!.push(mem(r.pid).rss);
  }
  console.log(`\nidle ${IDLE} s at default intervals`);
  console.log('process | RSS at the end MiB | median of the last half MiB | CPU % of a core');
  for (const r of rows) {
    const xs = samples.get(r.pid)!;
    console.log(`${r.name} | ${xs.at(-1)!.toFixed(1)} | ${median(xs.slice(Math.floor(xs.length / 2))).toFixed(1)} | ${(((cpuSeconds(r.pid) - cpu0.get(r.pid)!) / IDLE) * 100).toFixed(2)}`);
  }

  if (LOAD > 0) {
    // The scrapers run in a child process of their own, on keep-alive connections.
    const url = `${deployed.url.replace('http:', 'https:').replace('127.0.0.1', 'localhost')}/metrics`;
    const cpuL = cpuSeconds(deployed.pid);
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(mem(deployed.pid).rss), 1000);
    const tally = await startScrapers({ url, caFile: auth.caFile, user: auth.user, password: auth.password, scrapers: SCRAPERS, seconds: LOAD }).done;
    clearInterval(sampler);
    const m = mem(deployed.pid);
    console.log(`\n${SCRAPERS} HTTPS + basic-auth scrapers at 1/s for ${LOAD} s on the deployed agent`);
    console.log(`scrapes ${tally.ok}, errors ${JSON.stringify(tally.errors)}, incomplete ${tally.incomplete}; CPU ${(((cpuSeconds(deployed.pid) - cpuL) / LOAD) * 100).toFixed(1)} % of a core`);
    console.log(`RSS median ${median(rss).toFixed(1)} MiB, max sampled ${Math.max(...rss).toFixed(1)} MiB, at the end ${m.rss.toFixed(1)} MiB; high-water since start (VmHWM) ${m.hwm.toFixed(1)} MiB`);
  }
  for (const r of rows.slice(2)) console.log(`${r.name}: high-water since start ${mem(r.pid).hwm.toFixed(1)} MiB`);
  console.log(`\nload after: ${load()}`);
} finally {
  for (const a of agents) await a.stop();
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await sim.stop();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
