// GET /api/v1/status at 100, 1,000 and 5,000 nodes, 10 % of them silent (they accept connections
// and never answer, on both paths), pod and host paths configured, the asked agent in a CPU cgroup
// at its deployed limit (500m), asking every peer itself (`?gather=direct`) and through relays
// (`?gather=relays`), request by request in turn. Stand-in peers answer like real agents: five
// probes with their figures, and their pings of k = 10 peers on both networks as the mesh assigns
// them (the silent ones seen down). The relays are real agent code (`relayStatus`, the relay
// endpoint's function), one per node, many in this process: each asks its members over HTTP and
// checks, compacts and sends their answers as an agent does. One stand-in server per network
// answers for every node, told apart by the loopback address it was reached on (127.10.x.y).
// Reports latency, answer size, answering nodes heard, the agent's CPU and transient RSS per
// request (peak minus the RSS just before); then one relay's CPU per request on the shipped
// artifact; then the merge alone, in process, to show it grows linearly with nodes × k.
//
//   npm run build && node --import tsx bench/cluster-status.ts [--sizes 100,1000,5000] [--requests 5]
//     [--cpu 500] [--gather direct,relays] [--before <other build's vigil.mjs>] [--before-sizes 100,1000]
import cluster from 'node:cluster';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { score } from '../src/peers/assign.ts';
import { httpTransport, PeerClient } from '../src/peers/client.ts';
import { relayGroups } from '../src/peers/relays.ts';
import { knownDownFrom, parseRelayQuery, relayStatus } from '../src/server/peer-routes.ts';
import { mergeCluster, type FanoutResult } from '../src/status/cluster.ts';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { SHIPPED, startArtifact } from './artifact.ts';
import { createCpuCgroup, type CpuCgroup } from './cpu-cgroup.ts';
import { localStatus } from './peer-answer.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    requests: { type: 'string', default: '5' },
    before: { type: 'string' },
    'before-sizes': { type: 'string', default: '100,1000' },
    artifact: { type: 'string', default: SHIPPED },
    rounds: { type: 'string', default: '1' },
    cpu: { type: 'string', default: '500' },
    gather: { type: 'string', default: 'direct,relays' },
    'relay-requests': { type: 'string', default: '20' },
    timeout: { type: 'string', default: '1000' },
    replay: { type: 'string', default: '0' },
  },
});
/** The agent's fan-out deadline (peers.fanout.timeout), ms. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? values.timeout);
/** When above 0: relays answer each request as the relay code answered it the first time, this many ms after it comes (the asked agent's side alone). */
const REPLAY_MS = Number(process.env.BENCH_REPLAY_MS ?? values.replay);
const GATHERS = values.gather.split(',') as ('direct' | 'relays')[];
const MILLICORES = Number(values.cpu);
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
  const byName = new Map(names.map((nm, i) => [nm, i]));
  const silent = new Set(names.filter((_, i) => isSilent(i)));
  const targets = assignAllFast(names, K);
  const cache = new Map<number, string>();
  // replay mode: each relay's answer, made once by the relay code, sent again after REPLAY_MS
  const replays = new Map<string, string>();
  const ports = { pod: 0, host: 0 };
  const record = (node: string) => {
    const j = byName.get(node);
    return j === undefined ? undefined : { node, podIP: ip(j), hostIP: ip(j) };
  };
  // node i as a relay: the relay endpoint's own function, with a peer client of its own, as in an agent
  const relays = new Map<number, Parameters<typeof relayStatus>[0]>();
  const relayOf = (i: number) => {
    let o = relays.get(i);
    if (!o) {
      const node = names[i]!;
      const own = localStatus(node, targets[i]!, silent);
      o = {
        self: node,
        client: new PeerClient({ transport: httpTransport(), maxBytes: 4 * 2 ** 20 }),
        localStatus: () => ({ ...own, time: new Date().toISOString() }),
        now: () => Date.now(),
        fanout: { podPort: ports.pod, hostPort: ports.host, concurrency: 32, timeoutMs: TIMEOUT_MS },
        knownDownMaxAgeMs: 30_000,
        directory: { get: record },
      };
      relays.set(i, o);
    }
    return o;
  };
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
    } else if (req.url?.startsWith('/api/v1/status/relay')) {
      const q = Object.fromEntries(new URL(req.url, 'http://x').searchParams);
      // keyed by the set of members (the asker orders a group by what failed lately, and may ask
      // another of its nodes to relay); the answer is the members' statuses, sent as this relay's
      const key = `${[...q.members!.split(',')].sort().join(',')} ${q.timeout} ${q.detail}`;
      const replayed = REPLAY_MS > 0 ? replays.get(key) : undefined;
      if (replayed) {
        const body = `{"relay":${JSON.stringify(node)},${replayed.slice(replayed.indexOf('"members":'))}`;
        return void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), REPLAY_MS);
      }
      void relayStatus(relayOf(i), parseRelayQuery(q, TIMEOUT_MS)).then(
        (answer) => {
          const text = JSON.stringify(answer);
          if (REPLAY_MS > 0) replays.set(key, text);
          res.writeHead(200, { 'content-type': 'application/json' }).end(text);
        },
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    } else return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  const servers = [http.createServer(handler), http.createServer(handler)];
  for (const s of servers) await new Promise<void>((resolve) => s.listen(0, '0.0.0.0', resolve));
  const [podPort, hostPort] = servers.map((s) => (s.address() as AddressInfo).port) as [number, number];
  ports.pod = podPort;
  ports.host = hostPort;
  return {
    names,
    silent,
    targets,
    podPort,
    hostPort,
    close: async () => {
      for (const o of relays.values()) o.client.close();
      await Promise.all(servers.map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
    },
  };
}

/** Replayed relays cost next to nothing: one process; live relays get both cores. */
const WORKERS = REPLAY_MS > 0 ? 1 : 2;

/**
 * The stand-ins and their relays in WORKERS processes sharing the two listening sockets (the
 * kernel spreads the connections), so the relays' work gets both cores, as it gets many machines
 * in a cluster. The asked agent is not among them.
 */
async function sharedStandIns(n: number) {
  const names = Array.from({ length: n }, (_, i) => name(i));
  const silent = new Set(names.filter((_, i) => isSilent(i)));
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), execArgv: process.execArgv, args: [] });
  const workers = Array.from({ length: WORKERS }, () => cluster.fork({ BENCH_STAND_INS: String(n), BENCH_REPLAY_MS: String(REPLAY_MS), BENCH_TIMEOUT_MS: String(TIMEOUT_MS) }));
  const ports = await Promise.all(workers.map((w) => new Promise<{ pod: number; host: number }>((resolve) => w.once('message', resolve))));
  return {
    names,
    silent,
    podPort: ports[0]!.pod,
    hostPort: ports[0]!.host,
    /** CPU the stand-ins and relays have used, all workers together, in ms. */
    cpuMs: () => workers.reduce((sum, w) => sum + cpuMs(w.process.pid!), 0),
    close: () => Promise.all(workers.map((w) => new Promise<void>((resolve) => (w.once('exit', () => resolve()), w.kill())))),
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

type Sample = { simCpuMs: number[]; why: Map<string, number>; latencyMs: number[]; bytes: number[]; heard: number[]; notAsked: number[]; cpuMs: number[]; transientMiB: number[]; replaced: number[]; direct: number[]; rssMiB: number };

async function measure(artifact: string, n: number, cgroup: CpuCgroup | undefined): Promise<{ by: Map<string, Sample>; answering: number; throttled: number }> {
  const sim = await sharedStandIns(n);
  const storage = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-status-'));
  const config = stringify({
    node: { name: sim.names[0] },
    storage: { path: storage },
    log: { level: 'info' },
    probes: { node: { enabled: false } },
    peers: {
      discovery: ['static'],
      static: sim.names.slice(1).map((node, j) => ({ node, pod: `${ip(j + 1)}:${sim.podPort}`, host: `${ip(j + 1)}:${sim.hostPort}` })),
      hostPort: sim.hostPort,
      k: K,
      interval: '10s',
      timeout: '2s',
      fanout: { timeout: `${TIMEOUT_MS}ms` },
    },
  });
  const agent = await startArtifact(config, { artifact, prefix: cgroup?.prefix });
  const throttled0 = cgroup?.throttled() ?? 0;
  try {
    await sleep(5000); // one mesh round: the agent's own silent targets are known down
    // replay mode: each relay the agent will ask (the group's first, or its second when the first is
    // silent) makes its answer once with the relay code, one relay at a time, before anything is measured
    if (REPLAY_MS > 0) {
      const own = (await (await fetch(`${agent.url}/api/v1/status/local`)).json()) as LocalStatusWithPeers;
      const down = knownDownFrom(own.peers, Date.now(), 30_000);
      const groups = relayGroups(
        sim.names.slice(1).filter((x) => !down.has(x)),
        50,
      );
      for (const g of groups) {
        const relay = g.find((x) => !sim.silent.has(x))!;
        const at = sim.names.indexOf(relay);
        await (await fetch(`http://${ip(at)}:${sim.podPort}/api/v1/status/relay?members=${g.join(',')}&timeout=${Math.floor(TIMEOUT_MS * 0.35)}`)).text();
      }
    }
    const by = new Map<string, Sample>(GATHERS.map((g) => [g, { simCpuMs: [], why: new Map(), latencyMs: [], bytes: [], heard: [], notAsked: [], cpuMs: [], transientMiB: [], replaced: [], direct: [], rssMiB: 0 }]));
    for (let r = 0; r < REQUESTS; r++) {
      for (const gather of GATHERS) {
        const out = by.get(gather)!;
        const before = mem(agent.pid).rss;
        writeFileSync(`/proc/${agent.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
        const cpu0 = cpuMs(agent.pid);
        const sim0 = sim.cpuMs();
        const t0 = performance.now();
        const res = await fetch(`${agent.url}/api/v1/status?gather=${gather}`);
        const text = await res.text();
        out.latencyMs.push(performance.now() - t0);
        out.cpuMs.push(cpuMs(agent.pid) - cpu0);
        out.simCpuMs.push(sim.cpuMs() - sim0);
        out.transientMiB.push((mem(agent.pid).hwm - before) / 2 ** 20);
        out.bytes.push(Buffer.byteLength(text));
        const s = JSON.parse(text) as ClusterStatus;
        // answering nodes heard: the asker itself and every peer that is not silent and answered
        out.heard.push(s.nodes.filter((x) => x.answered && !sim.silent.has(x.name)).length);
        out.notAsked.push(s.nodes.filter((x) => x.error?.startsWith('not asked') || x.error?.startsWith('not heard')).length);
        for (const x of s.nodes) {
          if (x.answered || sim.silent.has(x.name)) continue;
          const why = (x.error ?? '')
            .replace(/node-\d+/g, 'node-N')
            .replace(/\d+ ms/g, 'N ms')
            .slice(0, 120);
          out.why.set(why, (out.why.get(why) ?? 0) + 1);
        }
        out.replaced.push(s.completeness.relays?.replaced ?? 0);
        out.direct.push(s.completeness.relays?.askedDirectly ?? 0);
        out.rssMiB = mem(agent.pid).rss / 2 ** 20;
        await sleep(500);
      }
    }
    return { by, answering: n - sim.silent.size, throttled: (cgroup?.throttled() ?? 0) - throttled0 };
  } finally {
    await agent.stop();
    await sim.close();
    rmSync(storage, { recursive: true, force: true });
  }
}

/** One relay's CPU per request on the shipped artifact (in the cgroup): a real agent asked to relay for groups of about 50 of the stand-ins, one request at a time. */
async function relayCost(artifact: string, n: number, cgroup: CpuCgroup | undefined): Promise<{ cpuMs: number[]; latencyMs: number[]; members: number; bytes: number }> {
  const sim = await sharedStandIns(n);
  const storage = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-relay-'));
  const config = stringify({
    node: { name: 'relay' },
    storage: { path: storage },
    log: { level: 'info' },
    probes: { node: { enabled: false } },
    peers: { discovery: ['static'], static: sim.names.map((node, j) => ({ node, pod: `${ip(j)}:${sim.podPort}`, host: `${ip(j)}:${sim.hostPort}` })), hostPort: sim.hostPort, k: K, interval: '10s', timeout: '2s' },
  });
  const agent = await startArtifact(config, { artifact, prefix: cgroup?.prefix });
  try {
    await sleep(3000);
    const groups = relayGroups(sim.names, 50);
    const out = { cpuMs: [] as number[], latencyMs: [] as number[], members: 0, bytes: 0 };
    const count = Number(values['relay-requests']);
    for (let r = 0; r < count; r++) {
      const g = groups[r % groups.length]!;
      const cpu0 = cpuMs(agent.pid);
      const t0 = performance.now();
      const res = await fetch(`${agent.url}/api/v1/status/relay?members=${g.join(',')}&timeout=400`);
      const text = await res.text();
      out.latencyMs.push(performance.now() - t0);
      out.cpuMs.push(cpuMs(agent.pid) - cpu0);
      out.members += g.length;
      out.bytes += Buffer.byteLength(text);
      await sleep(200);
    }
    out.members /= count;
    out.bytes /= count;
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

if (cluster.isWorker) {
  const sim = await standIns(Number(process.env.BENCH_STAND_INS));
  process.send!({ pod: sim.podPort, host: sim.hostPort });
} else {
  console.log(`load before: ${load()} (${os.cpus().length} cores)`);
  const sizes = values.sizes.split(',').map(Number);
  const beforeSizes = new Set(values['before-sizes'].split(',').map(Number));
  const cgroup = MILLICORES > 0 ? createCpuCgroup(`vigil-bench-${process.pid}`, MILLICORES) : undefined;
  try {
    console.log(
      `\nGET /api/v1/status, 10 % of peers silent, pod and host paths, k = 10, fan-out timeout ${TIMEOUT_MS} ms, concurrency 32${REPLAY_MS > 0 ? `; relays replayed after ${REPLAY_MS} ms` : ''}; the agent ${cgroup ? `in a CPU cgroup at ${MILLICORES}m` : 'without a CPU limit'}`,
    );
    console.log('build  | nodes | gather | latency median / max ms | answer KiB median | answering heard median / min (of) | agent CPU ms median | transient RSS median / max MiB | relays replaced | asked directly');
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of sizes) {
        for (const [label, artifact] of [['after', values.artifact], ...(values.before && beforeSizes.has(n) ? [['before', values.before]] : [])] as [string, string][]) {
          const m = await measure(artifact, n, cgroup);
          for (const [gather, x] of m.by) {
            console.log(
              `${label.padEnd(6)} | ${String(n).padStart(5)} | ${gather.padEnd(6)} | ${median(x.latencyMs).toFixed(0).padStart(6)} / ${Math.max(...x.latencyMs)
                .toFixed(0)
                .padEnd(
                  6,
                )} | ${(median(x.bytes) / 1024).toFixed(0).padStart(8)} | ${String(median(x.heard)).padStart(5)} / ${String(Math.min(...x.heard)).padEnd(5)} (${m.answering}) | ${String(median(x.cpuMs)).padStart(6)} | ${median(x.transientMiB).toFixed(1)} / ${Math.max(...x.transientMiB).toFixed(1)} | ${median(x.replaced)} | ${median(x.direct)}`,
            );
          }
          for (const [gather, x] of m.by) {
            const top = [...x.why].sort((a, b) => b[1] - a[1]).slice(0, 3);
            console.log(`         ${gather}: the stand-ins' and relays' CPU per request, all ${WORKERS} processes: median ${median(x.simCpuMs)} ms`);
            if (top.length) console.log(`         ${gather}: answering nodes not heard, by reason (all requests): ${top.map(([w, c]) => `${c}× ${w}`).join('; ')}`);
          }
          console.log(`         throttled periods of the agent's cgroup during the ${sizes.length > 1 ? 'size' : 'run'}: ${m.throttled}`);
        }
      }
    }
    console.log(`\none relay on the shipped artifact${cgroup ? ` in the ${MILLICORES}m cgroup` : ''}: GET /api/v1/status/relay for a group of about 50 of 5,000 nodes (10 % silent), timeout 400 ms, one request at a time`);
    const rc = Number(values['relay-requests']) > 0 ? await relayCost(values.artifact, 5000, cgroup) : undefined;
    if (rc)
      console.log(
        `CPU ms per request median ${median(rc.cpuMs)} / max ${Math.max(...rc.cpuMs)} (${rc.cpuMs.length} requests, clock ticks of 10 ms); latency median ${median(rc.latencyMs).toFixed(0)} ms; ${rc.members.toFixed(0)} members, answer ${(rc.bytes / 1024).toFixed(1)} KiB on average`,
      );
  } finally {
    await cgroup?.remove();
  }
  console.log('\nmerge alone (in process, median of 5), every answer in');
  console.log('nodes | merge ms | µs per node × k | answer KiB');
  for (const n of sizes) {
    const m = mergeTime(n);
    console.log(`${String(n).padStart(5)} | ${m.ms.toFixed(1).padStart(8)} | ${((m.ms * 1000) / (n * K)).toFixed(2).padStart(15)} | ${(m.bytes / 1024).toFixed(0)}`);
  }
  console.log(`\nload after: ${load()}`);
}
