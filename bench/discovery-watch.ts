// What Kubernetes peer discovery asks of the API server in steady state, per agent per hour, at
// 1,000 agents' pods: lists (each one every agent's pod), watches, and the bytes sent, with each
// watch asking for bookmarks and ending itself after 5-10 minutes (as shipped), against the
// informer as client-node's makeInformer builds it (no timeout, no bookmarks: the server ends each
// watch after 30-60 minutes, --min-request-timeout 1800 s).
//
// Time runs --scale times faster than a real cluster's: the server's watch timeout, the watches'
// own timeouts, the bookmarks (about one a minute, and one 2 s before a watch's deadline) and the
// watch cache's history (--history-s seconds of real time: a large cluster's other pods push older
// versions out of the cache) are all divided by it. Other pods change every --churn-ms. --agents discovery clients run side by side in this process, each with its
// own client and history database.
//
// A scale much above 100 squeezes the history below what the event loop's own delays take (a
// re-watch then comes too late even with a fresh version) and rounds the watches' timeoutSeconds.
//
//   node --import tsx bench/discovery-watch.ts [--pods 1000] [--agents 10] [--hours 2] [--scale 100] [--history-s 75] [--churn-ms 20]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/clock.ts';
import { HistoryStore } from '../src/history/store.ts';
import { createKubeClients } from '../src/k8s/client.ts';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../src/log.ts';
import { PeerDirectory } from '../src/peers/directory.ts';
import { KubernetesDiscovery, podsToPeers } from '../src/peers/kubernetes.ts';
import { ApiSim, writeKubeconfig } from '../test/support/apisim/index.ts';
import { sleep } from './proc.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '10' },
    hours: { type: 'string', default: '2' },
    scale: { type: 'string', default: '100' },
    'history-s': { type: 'string', default: '75' },
    'churn-ms': { type: 'string', default: '20' },
  },
});
const PODS = Number(values.pods);
const AGENTS = Number(values.agents);
const HOURS = Number(values.hours);
const SCALE = Number(values.scale);
const NS = 'vigil';
const SELECTOR = 'app.kubernetes.io/name=vigil';

type Mode = 'makeInformer (before)' | 'bookmarks + own timeout (shipped)';

/** What the discovery clients logged at warn or above, and the informers' errors: printed after the table. */
const seen: string[] = [];
const warnings = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const l = JSON.parse(line) as { msg: string; err?: { message?: string } };
      seen.push(`${l.msg}${l.err?.message ? `: ${l.err.message}` : ''}`);
    }
    done();
  },
});

async function run(mode: Mode): Promise<{ lists: number; watches: number; listMiB: number; watchMiB: number; peersSeen: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-discovery-'));
  const nodes = Array.from({ length: PODS }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  const sim = await ApiSim.start({ nodes: [], minRequestTimeoutMs: 1_800_000 / SCALE, watchHistoryMs: (Number(values['history-s']) * 1000) / SCALE, bookmarkIntervalMs: 60_000 / SCALE, bookmarkBeforeDeadlineMs: 2000 / SCALE });
  const stores: HistoryStore[] = [];
  const stops: (() => void)[] = [];
  let churn: NodeJS.Timeout | undefined;
  try {
    // The agents' pods, bound to their nodes: the simulated kubelets run them and give them addresses.
    for (const node of nodes) {
      sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `vigil-${node}`, namespace: NS, labels: { 'app.kubernetes.io/name': 'vigil' } }, spec: { nodeName: node, containers: [{ name: 'vigil', image: 'vigil' }] } });
    }
    while (sim.store.list('pods').some((p) => p.status?.phase !== 'Running')) await sleep(50);
    const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token, namespace: NS });
    const directories: PeerDirectory[] = [];
    for (let a = 0; a < AGENTS; a++) {
      const store = new HistoryStore(path.join(dir, `history-${a}.db`));
      stores.push(store);
      const directory = new PeerDirectory({ self: nodes[a]!, store, now: Date.now, logger: silentLogger(), sources: ['kubernetes'] });
      directories.push(directory);
      const clients = await createKubeClients({ kubeconfig, namespace: NS });
      if (mode === 'bookmarks + own timeout (shipped)') {
        const d = await KubernetesDiscovery.create({ clients, labelSelector: SELECTOR, directory, clock: systemClock, logger: createLogger('warn', warnings), watchTimeoutSeconds: [300 / SCALE, 600 / SCALE] });
        d.start();
        stops.push(() => d.stop());
      } else {
        const { makeInformer } = await import('@kubernetes/client-node');
        const informer = makeInformer(clients.config, `/api/v1/namespaces/${NS}/pods`, () => clients.core.listNamespacedPod({ namespace: NS, labelSelector: SELECTOR }), SELECTOR);
        const publish = () => directory.set('kubernetes', podsToPeers(informer.list()));
        informer.on('add', publish);
        let stopped = false;
        informer.on('error', (err) => {
          if (stopped) return;
          seen.push(`informer error: ${String(err)}`);
          setTimeout(() => void informer.start().catch(() => undefined), 5000 / SCALE);
        });
        await informer.start();
        stops.push(() => {
          stopped = true;
          void informer.stop();
        });
      }
    }
    while (directories.some((d) => d.list().length < PODS - 1)) await sleep(50);
    // Steady state from here: every agent has listed once.
    let n = 0;
    churn = setInterval(() => {
      sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `job-${n}`, namespace: 'default', labels: { app: 'job' } }, spec: { containers: [{ name: 'x', image: 'x' }] } });
      if (n > 0) sim.store.remove('pods', 'default', `job-${n - 1}`);
      n++;
    }, Number(values['churn-ms']));
    sim.requests.length = 0;
    await sleep((HOURS * 3_600_000) / SCALE);
    const ours = sim.requests.filter((q) => q.namespace === NS && q.resource === 'pods');
    const of = (verb: string) => ours.filter((q) => q.verb === verb);
    const mib = (xs: typeof ours) => xs.reduce((a, q) => a + q.bytes, 0) / 1048576;
    const per = AGENTS * HOURS;
    return { lists: of('list').length / per, watches: of('watch').length / per, listMiB: mib(of('list')) / per, watchMiB: mib(of('watch')) / per, peersSeen: Math.min(...directories.map((d) => d.list().length)) };
  } finally {
    clearInterval(churn);
    for (const stop of stops) stop();
    await sim.stop();
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `${PODS} agents' pods, ${AGENTS} discovery clients measured, ${HOURS} h at ${SCALE}x (${((HOURS * 3600) / SCALE).toFixed(0)} s each), watch history ${values['history-s']} s, other pods changing every ${values['churn-ms']} ms\n`,
);
console.log('| per agent per hour | lists | watches | MiB in lists | MiB in watches | peers seen at the end |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const mode of ['makeInformer (before)', 'bookmarks + own timeout (shipped)'] as Mode[]) {
  const r = await run(mode);
  console.log(`| ${mode} | ${r.lists.toFixed(2)} | ${r.watches.toFixed(2)} | ${r.listMiB.toFixed(2)} | ${r.watchMiB.toFixed(3)} | ${r.peersSeen} |`);
}
console.log(`\nAt 1,000 agents, multiply by 1,000 for the API server's load.`);
const counts = new Map<string, number>();
for (const m of seen) counts.set(m, (counts.get(m) ?? 0) + 1);
for (const [m, n] of counts) console.log(`${n} × ${m}`);
// client-node's informers leave timers behind them once stopped
process.exit(0);
