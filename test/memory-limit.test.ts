// The shipped artifact under the DaemonSet's own memory limit: the agent (the bundle, started
// through its shebang as the image runs it) with the deployed probe set against a real etcd and
// the API simulator runs inside a memory cgroup of the limit the rendered manifests give its
// container, while 100 HTTPS + basic-auth scrapers fetch /metrics once a second each for 5
// minutes, each on its own keep-alive connection. It must still be running at the end, the kernel must not have OOM-killed anything in
// the cgroup, every scrape must succeed, no probe may fall behind (each ran as often as its
// interval allows over the window) and no run may outlive its timeout.
//
// Needs root (it makes the cgroup: v1 memory.limit_in_bytes or v2 memory.max). VIGIL_MEMORY_LOAD_SECONDS
// shortens the load for a quick look; the suite runs the 300 s.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { REPO, spawnAgent, type AgentProcess } from './support/agent-process.ts';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { deployedSetConfig, httpsBasicAuth } from './support/deployed-set.ts';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { httpsGet } from './support/https-get.ts';
import { createMemoryCgroup, dropFromPageCache, type MemoryCgroup } from './support/memory-cgroup.ts';
import { overranSkips, probeCounts, scheduleKept } from './support/probe-schedule.ts';
import { startScrapers } from './support/scrapers.ts';

const SECONDS = Number(process.env.VIGIL_MEMORY_LOAD_SECONDS ?? 300);
const SCRAPERS = 100;
const NODE = 'mem-a';

const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
/** A Kubernetes memory quantity (e.g. 160Mi) in bytes. */
function quantityBytes(q: string): number {
  const m = /^(\d+)(|k|M|G|Ki|Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${JSON.stringify(q)} in the DaemonSet`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** The memory limit of the agent's container in the DaemonSet deploy/base renders to. */
function daemonSetMemoryLimit(): string {
  const r = spawnSync('kubectl', ['kustomize', 'deploy/base'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, `kubectl kustomize deploy/base: ${r.error?.message ?? r.stderr}`);
  const ds = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as V1DaemonSet & { kind: string })
    .find((o) => o.kind === 'DaemonSet' && o.metadata?.name === 'vigil');
  const limit = ds?.spec?.template.spec?.containers.find((c) => c.name === 'vigil')?.resources?.limits?.memory;
  assert.ok(typeof limit === 'string', 'the rendered DaemonSet vigil has no memory limit on its vigil container');
  return limit;
}

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1]);
const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : +(bytes / 1024 / 1024).toFixed(1));

void test(
  `the shipped agent with the deployed probe set, in a memory cgroup of the DaemonSet's limit, under ${SCRAPERS} HTTPS + basic-auth scrapers at 1/s for ${SECONDS} s: not killed, no probe run late or past its timeout`,
  { timeout: (SECONDS + 180) * 1000 },
  async (t) => {
    const limit = daemonSetMemoryLimit();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-memory-limit-'));
    let cgroup: MemoryCgroup | undefined;
    let etcd: EtcdCluster | undefined;
    let sim: ApiSim | undefined;
    let agent: AgentProcess | undefined;
    try {
      const build = spawnSync(process.execPath, [path.join(REPO, 'scripts/build.mjs'), '--outdir', path.join(dir, 'dist')], { encoding: 'utf8' });
      assert.equal(build.status, 0, build.stderr);
      // The agent's code pages are charged to its cgroup as in a new pod: its own copy of node (found
      // by the bundle's `#!/usr/bin/env node` on PATH) and the bundle, neither of them in the page cache.
      mkdirSync(path.join(dir, 'bin'));
      copyFileSync(process.execPath, path.join(dir, 'bin/node'));
      const dist = path.join(dir, 'dist');
      dropFromPageCache([
        path.join(dir, 'bin/node'),
        ...readdirSync(dist, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => path.join(e.parentPath, e.name)),
      ]);
      cgroup = createMemoryCgroup(`vigil-memory-limit-${process.pid}`, quantityBytes(limit));
      etcd = await startEtcdCluster(1);
      sim = await ApiSim.start({ nodes: [NODE] });
      const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
      const auth = httpsBasicAuth(dir);
      agent = await spawnAgent({
        built: path.join(dir, 'dist/vigil.mjs'),
        prefix: cgroup.prefix,
        env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` },
        config: deployedSetConfig({ node: NODE, storage: path.join(dir, 'data'), kubeconfig, etcdEndpoint: etcd.endpoints[0]!, webConfigFile: auth.webConfigFile }),
        startTimeoutMs: 60_000,
      });
      const a = agent;
      assert.ok(cgroup.contains(a.pid), `the agent (PID ${a.pid}) is not in ${cgroup.dir}`);
      assert.equal(readlinkSync(`/proc/${a.pid}/exe`), path.join(dir, 'bin/node'), 'the agent runs on its own copy of node');
      const url = `https://localhost:${a.port}/metrics`;
      const metrics = async () => {
        const res = await httpsGet(url, { ca: readFileSync(auth.caFile), auth: `${auth.user}:${auth.password}`, timeoutMs: 30_000 });
        assert.equal(res.status, 200);
        return res.body;
      };

      const scrapers = startScrapers({ url, caFile: auth.caFile, user: auth.user, password: auth.password, scrapers: SCRAPERS, seconds: SECONDS });
      const before = probeCounts(await metrics());
      const windowStart = Date.now();
      const tally = await scrapers.done;
      const windowEnd = Date.now();
      const text = await metrics();
      const after = probeCounts(text);
      // What the agent's server refused or cut, by reason: a failed scrape then says which limit it met.
      const rejected = Object.fromEntries([...text.matchAll(/^vigil_http_requests_rejected_total\{reason="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
      const proc = status(a.pid);
      const alive = a.child.exitCode === null && a.child.signalCode === null;

      const windowSeconds = (windowEnd - windowStart) / 1000;
      const { runs, late, skipped } = scheduleKept(before, after, windowSeconds);

      const report = {
        limit,
        cgroup: `v${cgroup.version} ${cgroup.dir}`,
        seconds: SECONDS,
        scrapes: tally,
        rejected,
        rssMiB: { end: mib(kib(proc, 'VmRSS') * 1024), highWater: mib(kib(proc, 'VmHWM') * 1024) },
        // Charged to the cgroup: its peak includes page cache (the code read, the history database), which the kernel reclaims at the limit.
        cgroupMiB: { peak: mib(cgroup.peakBytes()), anonAtEnd: mib(cgroup.anonBytes()) },
        limitHits: cgroup.limitHits(),
        oomKills: cgroup.oomKills(),
        runs,
        load: os.loadavg().map((l) => +l.toFixed(1)),
      };
      t.diagnostic(`memory limit: ${JSON.stringify(report)}`);

      assert.ok(alive, `the agent is gone (${a.child.exitCode ?? a.child.signalCode}); it logged:\n${a.logs.slice(-20).join('\n')}`);
      assert.equal(report.oomKills, 0, `the OOM killer killed ${report.oomKills} process(es) in the ${limit} cgroup`);
      assert.deepEqual(tally.errors, {}, `scrapes failed: ${JSON.stringify(tally.socketErrors)}`);
      assert.equal(tally.incomplete, 0, 'scrapes answered without the metrics');
      // Each scraper keeps one connection, used every second: the agent closed none of them.
      assert.equal(tally.connections, SCRAPERS, 'connections opened by the scrapers');
      // The load was there: at least one scrape per scraper every 10 s on average, however loaded the machine.
      assert.ok(tally.ok >= (SCRAPERS * SECONDS) / 10, `only ${tally.ok} scrapes in ${SECONDS} s`);
      assert.ok(before.size >= 5, `probes exported: ${[...before.keys()].join(', ')}`);
      // The runner's own account of each skip: how long the run in flight had been going, its timeout, and whether it had been aborted.
      assert.deepEqual(overranSkips(a.logs, windowStart), [], `runs that outlived their timeout made the runner skip; skipped: ${skipped.join(', ')}; the agent logged:\n${a.logs.filter((l) => l.includes('skipping this one')).join('\n')}`);
      assert.deepEqual(late, [], 'probe runs late');
    } finally {
      agent?.kill();
      await agent?.exited;
      await sim?.stop();
      await etcd?.stop();
      await cgroup?.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
