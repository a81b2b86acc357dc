// One HTTP server for every simulated agent of every scenario, each its own Prometheus target
// (told apart by __metrics_path__, with the instance address its pod would have), and the
// file_sd file that lists the targets in discovery at each moment: pods leave and join it as a
// DaemonSet rollout makes them. A target that must be down has its connection cut, so Prometheus
// records up=0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { serviceMonitorLabels } from '../monitoring.ts';
import { SimProcess, etcdAgentProbes, mainAgentProbes, type ClusterView } from './agents.ts';
import type { Scenario } from './scenarios.ts';
import { FACTOR, clusterNodes, defaultPod, podSuffix, scrapable, type ClusterNode, type PodPlan } from './world.ts';

interface Target {
  path: string;
  scenario: Scenario;
  view: ClusterView;
  node: ClusterNode;
  /** The etcd-probe agent: host network, its own DaemonSet, never rolled here. */
  etcd: boolean;
  plan: PodPlan;
  labels: Record<string, string>;
  current?: { since: number; proc: SimProcess; body: string };
}

/** How long peers go on pinging a pod that has left (its agent's graceful stop), virtual seconds. */
const LEAVING = 10;
/** How often each agent's exposition is brought up to date: the scrape interval's worth of wall time. */
const RENDER_EVERY_MS = 1500;

const inDiscovery = (p: PodPlan, v: number) => v >= p.from && (p.to === undefined || v < p.to);
const processDown = (p: PodPlan, v: number) => p.down?.some(([a, b]) => v >= a && v < b) ?? false;
/** When the process running at v started: the pod's start or the end of its last restart. */
const processSince = (p: PodPlan, v: number) => Math.max(p.from, ...(p.down ?? []).filter(([, b]) => b <= v).map(([, b]) => b));

export class Simulation {
  readonly #targets = new Map<string, Target>();
  readonly #sdFile: string;
  #server: Server | undefined;
  #address = '';
  #t0: number | undefined;
  #lastSd = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(scenarios: readonly Scenario[], opts: { sdFile: string }) {
    this.#sdFile = opts.sdFile;
    for (const s of scenarios) {
      const nodes = clusterNodes(s.nodes);
      const plans = new Map(nodes.map((n) => [n.name, s.pods?.(n, s.id) ?? [{ ...defaultPod(s.id, n), from: 0 }]]));
      const view: ClusterView = {
        cluster: s.id,
        nodes,
        faults: s.faults,
        agentAt: (node, v) => {
          const pods = plans.get(node) ?? [];
          const p = pods.find((x) => inDiscovery(x, v));
          if (p) return { running: !processDown(p, v) };
          // A pod that just left: its agent stopped, peers have not yet dropped it.
          return pods.some((x) => x.to !== undefined && v >= x.to && v < x.to + LEAVING) ? { running: false } : undefined;
        },
        wallSeconds: (v) => this.wallMs(v) / 1000,
      };
      for (const n of nodes) {
        for (const plan of plans.get(n.name)!) this.#add({ scenario: s, view, node: n, etcd: false, plan });
        if (n.controlPlane) {
          const plan = { name: `vigil-etcd-${podSuffix(`${s.id}/${n.name}/etcd`)}`, instance: `192.168.0.${10 + n.index}:10925`, from: 0 };
          this.#add({ scenario: s, view, node: n, etcd: true, plan });
        }
      }
    }
  }

  #add(t: Omit<Target, 'path' | 'labels'>): void {
    const path = `/metrics/${t.scenario.id}/${t.plan.name}`;
    const labels = {
      ...serviceMonitorLabels({ address: t.plan.instance, node: t.node.name }),
      ...(t.etcd ? { service: 'vigil-etcd' } : {}),
      pod: t.plan.name,
      instance: t.plan.instance,
      cluster: t.scenario.id,
      __metrics_path__: path,
    };
    this.#targets.set(path, { ...t, path, labels });
  }

  /** Virtual seconds since the clusters' time began (0 until it does). */
  v(now = Date.now()): number {
    return this.#t0 === undefined ? 0 : Math.max(0, ((now - this.#t0) / 1000) * FACTOR);
  }

  /** Wall-clock ms at virtual time v. */
  wallMs(v: number): number {
    return (this.#t0 ?? Date.now()) + (v / FACTOR) * 1000;
  }

  /** The targets in discovery at v. */
  discovered(v = this.v()): Target[] {
    return [...this.#targets.values()].filter((t) => inDiscovery(t.plan, v));
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const v = this.v();
      const t = this.#targets.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!t || !inDiscovery(t.plan, v)) {
        res.writeHead(404).end();
        return;
      }
      if (processDown(t.plan, v) || !scrapable(t.scenario.faults(v), t.node.name, t.etcd)) {
        req.socket.destroy();
        return;
      }
      const current = this.#refresh(t, v, false);
      res.writeHead(200, { 'content-type': current.proc.exposition.contentType }).end(current.body);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.#address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.#writeSd();
    this.#timer = setInterval(() => this.#writeSd(), 250);
    void this.#renderLoop();
  }

  /**
   * The agent process running at v, its exposition rendered at most a refresh ago: a scrape is
   * answered from it at once, however busy the machine, and the loop below keeps it current.
   */
  #refresh(t: Target, v: number, render: boolean): NonNullable<Target['current']> {
    const since = processSince(t.plan, v);
    if (t.current?.since !== since) {
      const probes = t.etcd ? etcdAgentProbes(t.view, t.node.name) : mainAgentProbes(t.view, t.node.name);
      const proc = new SimProcess({ view: t.view, node: t.node.name, startedAt: since, seed: `${t.path}@${since}`, probes });
      t.current = { since, proc, body: proc.render(v) };
    } else if (render) t.current.body = t.current.proc.render(v);
    return t.current;
  }

  /** Re-renders every running agent once per scrape interval, a few at a time so scrapes are answered in between. */
  async #renderLoop(): Promise<void> {
    const yieldNow = () => new Promise((r) => setImmediate(r));
    while (this.#server?.listening) {
      const started = Date.now();
      let n = 0;
      for (const t of this.#targets.values()) {
        const v = this.v();
        if (!inDiscovery(t.plan, v) || processDown(t.plan, v)) continue;
        this.#refresh(t, v, true);
        if (++n % 8 === 0) await yieldNow();
      }
      await new Promise((r) => setTimeout(r, Math.max(50, RENDER_EVERY_MS - (Date.now() - started))));
    }
  }

  /** Starts the clusters' clock. */
  begin(now = Date.now()): void {
    this.#t0 = now;
  }

  get begun(): number {
    if (this.#t0 === undefined) throw new Error('the simulation has not begun');
    return this.#t0;
  }

  #writeSd(): void {
    const groups = this.discovered().map((t) => ({ targets: [this.#address], labels: t.labels }));
    const text = JSON.stringify(groups, null, 1);
    if (text === this.#lastSd) return;
    this.#lastSd = text;
    // Whole files only: Prometheus may read at any moment.
    writeFileSync(`${this.#sdFile}.tmp`, text);
    renameSync(`${this.#sdFile}.tmp`, this.#sdFile);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
