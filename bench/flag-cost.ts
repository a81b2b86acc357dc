// What a change to the agent's V8 flags (or environment) costs and saves, side by side in one run:
// the shipped artifact under its own shebang flags ("as built") and under those flags plus the
// extra ones ("with"), each started twice — node probe only, and the deployed probe set serving
// HTTPS + basic auth — at the same time. RSS of all four after `--idle` seconds; then the
// scrapers (100 at 1/s, one child process) take turns on the two deployed agents, `--phase`
// seconds each, A B A B, and the agents' CPU over their own phases is compared.
//
//   npm run build && node --import tsx bench/flag-cost.ts --with=--no-opt [--env MALLOC_ARENA_MAX=2] [--idle 60] [--phase 60]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { deployedSetConfig, httpsBasicAuth } from '../test/support/deployed-set.ts';
import { startEtcdCluster } from '../test/support/etcd.ts';
import { startScrapers } from '../test/support/scrapers.ts';
import { SHIPPED, startArtifact, type Running } from './artifact.ts';

const { values } = parseArgs({
  options: { with: { type: 'string', default: '' }, env: { type: 'string', multiple: true, default: [] }, idle: { type: 'string', default: '60' }, phase: { type: 'string', default: '60' }, scrapers: { type: 'string', default: '100' } },
});
const EXTRA = values.with.split(/\s+/).filter(Boolean);
const ENV = Object.fromEntries(values.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

// The shebang's flags, so "as built" and "with" differ only by the extra flags.
const shebang = readFileSync(SHIPPED, 'utf8').split('\n', 1)[0]!;
const BUILT_FLAGS = shebang
  .replace(/^#!\/usr\/bin\/env -S node ?/, '')
  .split(/\s+/)
  .filter(Boolean);
const variants = [
  { name: 'as built', prefix: [process.execPath, ...BUILT_FLAGS], env: {} },
  { name: `with ${[...Object.entries(ENV).map(([k, v]) => `${k}=${v}`), ...EXTRA].join(' ')}`, prefix: [process.execPath, ...BUILT_FLAGS, ...EXTRA], env: ENV },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-flags-'));
const etcd = await startEtcdCluster(1);
const sim = await ApiSim.start({ nodes: ['bench'] });
const agents: Running[] = [];
try {
  console.log(`load before: ${load()} (${os.cpus().length} cores); flags as built: ${BUILT_FLAGS.join(' ')}`);
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const auth = httpsBasicAuth(dir);
  const rows: { variant: string; set: string; agent: Running }[] = [];
  for (const [i, v] of variants.entries()) {
    const nodeOnly = await startArtifact(stringify({ node: { name: 'bench' }, storage: { path: path.join(dir, `node-only-${i}`) } }), { prefix: v.prefix, env: v.env });
    const deployed = await startArtifact(deployedSetConfig({ node: 'bench', storage: path.join(dir, `deployed-${i}`), kubeconfig, etcdEndpoint: etcd.endpoints[0]!, webConfigFile: auth.webConfigFile }), { prefix: v.prefix, env: v.env });
    agents.push(nodeOnly, deployed);
    rows.push({ variant: v.name, set: 'node probe only', agent: nodeOnly }, { variant: v.name, set: 'deployed probe set', agent: deployed });
  }
  const samples = new Map<Running, number[]>(rows.map((r) => [r.agent, []]));
  for (let t = 0; t < Number(values.idle); t += 5) {
    await sleep(5000);
    for (const r of rows) samples.get(r.agent)!.push(rssMiB(r.agent.pid));
  }
  console.log(`\nidle ${values.idle} s: variant | probe set | RSS median of the last half MiB | at the end MiB`);
  for (const r of rows) {
    const xs = samples.get(r.agent)!;
    console.log(`${r.variant} | ${r.set} | ${median(xs.slice(Math.floor(xs.length / 2))).toFixed(1)} | ${xs.at(-1)!.toFixed(1)}`);
  }

  const deployed = rows.filter((r) => r.set === 'deployed probe set');
  const cpu = new Map<Running, number[]>(deployed.map((r) => [r.agent, []]));
  const peak = new Map<Running, number>(deployed.map((r) => [r.agent, 0]));
  for (const turn of [0, 1, 0, 1]) {
    const r = deployed[turn]!;
    const url = `${r.agent.url.replace('http:', 'https:').replace('127.0.0.1', 'localhost')}/metrics`;
    const c0 = cpuSeconds(r.agent.pid);
    const sampler = setInterval(() => peak.set(r.agent, Math.max(peak.get(r.agent)!, rssMiB(r.agent.pid))), 1000);
    const tally = await startScrapers({ url, caFile: auth.caFile, user: auth.user, password: auth.password, scrapers: Number(values.scrapers), seconds: Number(values.phase) }).done;
    clearInterval(sampler);
    cpu.get(r.agent)!.push(((cpuSeconds(r.agent.pid) - c0) / Number(values.phase)) * 100);
    console.log(`phase on "${r.variant}": ${tally.ok} scrapes, errors ${JSON.stringify(tally.errors)}; CPU ${cpu.get(r.agent)!.at(-1)!.toFixed(1)} % of a core; load ${load()}`);
  }
  console.log(`\n${values.scrapers} HTTPS + basic-auth scrapers/s on the deployed set: variant | CPU % of a core (each phase) | RSS max sampled MiB`);
  for (const r of deployed)
    console.log(
      `${r.variant} | ${cpu
        .get(r.agent)!
        .map((x) => x.toFixed(1))
        .join(', ')} | ${peak.get(r.agent)!.toFixed(1)}`,
    );
  console.log(`\nload after: ${load()}`);
} finally {
  for (const a of agents) await a.stop();
  await sim.stop();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
}
