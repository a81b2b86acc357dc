// What kubernetes.nodeConditions costs an agent: three agents on loopback (static peers), their
// Nodes in the API simulator; the steady RSS of each agent with the option off and on, pairs side
// by side, and the API writes made. Without --apiserver the agents run the peer mesh only (no
// Kubernetes probe: the option is what loads the client library); with it, the apiserver probe
// too (the library is loaded either way, as in the shipped configuration).
//   node --import tsx bench/node-conditions.ts [--pairs 3] [--seconds 20] [--apiserver]
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { freePort, loopbackAddresses, removeDir, startAll, startPeerAgent } from '../test/support/peer-agents.ts';
import { mib, procStats, sleep } from './proc.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '20' }, apiserver: { type: 'boolean', default: false } } });
const pairs = Number(values.pairs);
const seconds = Number(values.seconds);
const NAMES = ['alpha', 'bravo', 'charlie'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-nc-'));
const sim = await ApiSim.start({ nodes: NAMES });
const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function run(on: boolean): Promise<{ rss: number[]; writes: number }> {
  const ips = new Map(loopbackAddresses(NAMES.length).map((ip, i) => [NAMES[i]!, ip]));
  const addr = new Map<string, string>();
  for (const n of NAMES) addr.set(n, `${ips.get(n)}:${await freePort(ips.get(n))}`);
  const peers = NAMES.map((n) => ({ node: n, pod: addr.get(n)!, host: addr.get(n)! }));
  sim.requests.length = 0;
  const agents = await startAll(
    NAMES.map(
      (n) => () =>
        startPeerAgent({
          name: n,
          url: `http://${addr.get(n)}`,
          dir: mkdtempSync(path.join(dir, `${n}-`)),
          config: {
            web: { listenAddress: addr.get(n) },
            kubernetes: { kubeconfig, namespace: 'vigil', nodeConditions: on },
            probes: { node: { enabled: false }, apiserver: { enabled: values.apiserver } },
            peers: { discovery: ['static'], static: peers, interval: '1s', timeout: '500ms' },
          },
        }),
    ),
  );
  await sleep(seconds * 1000);
  const rss = agents.map((a) => procStats(a.child.pid!).rssBytes);
  await Promise.all(agents.map((a) => a.kill()));
  return { rss, writes: sim.requests.filter((r) => r.method === 'PATCH' || r.method === 'POST').length };
}

const off: number[] = [];
const on: number[] = [];
let writes = 0;
try {
  for (let i = 0; i < pairs; i++) {
    off.push(...(await run(false)).rss);
    const r = await run(true);
    on.push(...r.rss);
    writes += r.writes;
  }
} finally {
  await sim.stop();
  removeDir(dir);
}
process.stdout.write(`${pairs} pairs, ${seconds} s each, 3 agents${values.apiserver ? ' with the apiserver probe' : ', peer mesh only'}, load average ${os.loadavg()[0]!.toFixed(1)}, node ${process.version}\n\n`);
process.stdout.write('| nodeConditions | median RSS | range |\n|---|---|---|\n');
for (const [name, xs] of [
  ['off', off],
  ['on', on],
] as const)
  process.stdout.write(`| ${name} | ${mib(median(xs))} MiB | ${mib(Math.min(...xs))} – ${mib(Math.max(...xs))} |\n`);
process.stdout.write(`\nratio on/off ${(median(on) / median(off)).toFixed(2)}; API writes with the option on: ${writes} in ${pairs} runs of 3 agents (patches and events)\n`);
