import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startAgent, type Agent } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { builtinProbes } from '../../src/probes/index.ts';
import { ProbeRegistry } from '../../src/probes/registry.ts';

/**
 * A TCP relay on loopback standing for one observer's path to one peer. Passing, it forwards to
 * the peer's agent; blocked, it accepts connections and never answers, as a cut network does
 * (pings and fan-out requests time out instead of being refused).
 */
class Link {
  readonly server = net.createServer((s) => this.#accept(s));
  readonly #sockets = new Set<net.Socket>();
  target = 0;
  blocked = false;

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  #track(s: net.Socket): void {
    this.#sockets.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => this.#sockets.delete(s));
  }

  #accept(inbound: net.Socket): void {
    this.#track(inbound);
    if (this.blocked || this.target === 0) return; // held open, silent
    const outbound = net.connect(this.target, '127.0.0.1');
    this.#track(outbound);
    outbound.on('close', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  }

  /** Cuts the path: connections already through it break, new ones hang. */
  block(on: boolean): void {
    this.blocked = on;
    if (on) for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface LoopbackCluster {
  names: string[];
  agents: Map<string, Agent>;
  url(name: string): string;
  /** Cuts (or restores) every path between the groups, both ways; paths inside a group stay up. */
  partition(groups: string[][] | null): void;
  /** Stops one agent: its port closes, so peers are refused. */
  stopAgent(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Real agents started in-process on loopback, each with the others as static peers on the pod
 * and the host network. Every observer → peer path on each network goes through its own relay,
 * so a test can cut the network between groups of nodes.
 */
export async function startLoopbackCluster(opts: { names: string[]; intervalMs?: number; tokenFile?: string; configure?: (name: string) => Record<string, unknown> }): Promise<LoopbackCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-page-cluster-'));
  const links = new Map<string, Link>();
  const agents = new Map<string, Agent>();
  const NETWORKS = ['pod', 'host'] as const;
  const key = (observer: string, peer: string, network: string) => `${observer}\u0000${peer}\u0000${network}`;
  const pairs = opts.names.flatMap((o) => opts.names.filter((p) => p !== o).flatMap((p) => NETWORKS.map((n) => [o, p, n] as const)));
  const close = async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await Promise.all([...links.values()].map((l) => l.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const interval = opts.intervalMs ?? 1000;
    for (const [o, p, n] of pairs) links.set(key(o, p, n), new Link());
    const ports = new Map<string, number>();
    for (const [k, l] of links) ports.set(k, await l.listen());
    const registry = new ProbeRegistry(builtinProbes);
    await Promise.all(
      opts.names.map(async (name) => {
        const text = stringify({
          node: { name },
          web: { listenAddress: '127.0.0.1:0' },
          storage: { path: path.join(dir, name) },
          log: { level: 'silent' },
          shutdown: { gracePeriod: '1s' },
          // thresholds above any host's levels: these clusters test the mesh, not this machine's disk
          probes: { node: { interval: '2s', timeout: '1800ms', filesystem: { warning: 0.98, critical: 0.99 }, memory: { warning: 0.98, critical: 0.99 } } },
          peers: {
            discovery: ['static'],
            static: opts.names.filter((p) => p !== name).map((p) => ({ node: p, pod: `127.0.0.1:${ports.get(key(name, p, 'pod'))}`, host: `127.0.0.1:${ports.get(key(name, p, 'host'))}` })),
            hostPort: 1, // every static peer names its own host port; this only switches the host path on
            interval: `${interval}ms`,
            // most of an interval: several agents share this process, and a busy machine delays them all
            timeout: `${Math.round(interval * 0.8)}ms`,
            fanout: { timeout: `${Math.round(interval * 0.8)}ms` },
            ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
          },
          ...opts.configure?.(name),
        });
        const config = loadConfig({ probes: builtinProbes, file: { name: `${name}.yaml`, text }, env: {}, flags: {} });
        agents.set(name, await startAgent(config, { registry, logger: silentLogger() }));
      }),
    );
    for (const [o, p, n] of pairs) links.get(key(o, p, n))!.target = agents.get(p)!.port;
  } catch (err) {
    await close();
    throw err;
  }
  return {
    names: opts.names,
    agents,
    url: (name) => agents.get(name)!.url,
    partition(groups) {
      const side = (n: string) => (groups ?? []).findIndex((g) => g.includes(n));
      for (const [o, p, n] of pairs) links.get(key(o, p, n))!.block(groups !== null && side(o) !== side(p));
    },
    async stopAgent(name) {
      await agents.get(name)!.stop();
    },
    close,
  };
}
