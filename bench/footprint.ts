// Memory side by side, in one run: Debian's prometheus-node-exporter and prometheus-blackbox-exporter,
// the agent with the node probe only, and the agent with the deployed probe set (Kubernetes
// discovery, pod-scheduling, apiserver, control-plane, etcd; against a real etcd and the API
// simulator), all from the shipped artifact. First `--idle` seconds untouched (RSS sampled every
// 5 s), then `--load` seconds of 100 HTTPS + basic-auth scrapers at 1/s on the deployed agent; the
// agents' high-water mark (VmHWM) covers everything from their start.
//
//   npm run build && node --import tsx bench/footprint.ts [--idle 120] [--load 300] [--scrapers 100]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { freePort, startEtcdCluster } from '../test/support/etcd.ts';
import { makeCa, makeCert } from '../test/support/tls-certs.ts';
import { startArtifact, type Running } from './artifact.ts';

const { values } = parseArgs({ options: { idle: { type: 'string', default: '120' }, load: { type: 'string', default: '300' }, scrapers: { type: 'string', default: '100' } } });
const IDLE = Number(values.idle);
const LOAD = Number(values.load);
const SCRAPERS = Number(values.scrapers);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

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
  const ca = makeCa(dir, 'ca');
  const srv = makeCert(dir, 'server', ca, 'localhost');
  writeFileSync(path.join(dir, 'web.yml'), `tls_server_config:\n  cert_file: ${srv.cert}\n  key_file: ${srv.key}\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 10)}\n`);
  const deployed = await startArtifact(
    stringify({
      node: { name: 'bench' },
      storage: { path: path.join(dir, 'deployed') },
      kubernetes: { kubeconfig, namespace: 'vigil' },
      web: { configFile: path.join(dir, 'web.yml') },
      probes: { etcd: { enabled: true, endpoints: [etcd.endpoints[0]] }, apiserver: { enabled: true }, 'control-plane': { enabled: true }, 'pod-scheduling': { enabled: true } },
      peers: { discovery: ['kubernetes'] },
    }),
  );
  agents.push(deployed);
  rows.push({ name: 'vigil, deployed probe set', pid: deployed.pid });

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
    const agent = new https.Agent({ keepAlive: true, maxSockets: SCRAPERS, ca: readFileSync(ca.cert) });
    const url = deployed.url.replace('http:', 'https:').replace('127.0.0.1', 'localhost');
    let ok = 0;
    const errors = new Map<string, number>();
    const end = Date.now() + LOAD * 1000;
    const cpuL = cpuSeconds(deployed.pid);
    const scraper = async () => {
      await sleep(Math.random() * 1000);
      while (Date.now() < end) {
        const t0 = Date.now();
        await new Promise<void>((resolve) => {
          const req = https.get(`${url}/metrics`, { agent, auth: 'prometheus:s3cret', timeout: 30_000 }, (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) ok++;
              else errors.set(`HTTP ${res.statusCode}`, (errors.get(`HTTP ${res.statusCode}`) ?? 0) + 1);
              resolve();
            });
          });
          req.on('error', (err) => {
            errors.set(err.message, (errors.get(err.message) ?? 0) + 1);
            resolve();
          });
        });
        await sleep(Math.max(0, 1000 - (Date.now() - t0)));
      }
    };
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(mem(deployed.pid).rss), 1000);
    await Promise.all(Array.from({ length: SCRAPERS }, scraper));
    clearInterval(sampler);
    agent.destroy();
    const m = mem(deployed.pid);
    console.log(`\n${SCRAPERS} HTTPS + basic-auth scrapers at 1/s for ${LOAD} s on the deployed agent`);
    console.log(`scrapes ${ok}, errors ${JSON.stringify(Object.fromEntries(errors))}; CPU ${(((cpuSeconds(deployed.pid) - cpuL) / LOAD) * 100).toFixed(1)} % of a core`);
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
