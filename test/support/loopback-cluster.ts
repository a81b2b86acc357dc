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
export class Link {
  readonly server = net.createServer((s) => this.#accept(s));
  readonly #sockets = new Set<net.Socket>();
  /** Inbound connections whose last bytes went toward the agent (a request sent and not yet answered), with the request's first line. */
  readonly #awaiting = new Map<net.Socket, string>();
  target = 0;
  blocked = false;
  /** Holds every byte toward the agent this long: a slow path (answers come back at once). */
  delayMs = 0;

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
    inbound.on('close', () => {
      this.#awaiting.delete(inbound);
      outbound.destroy();
    });
    // forwarded by hand, not piped: a delay set later applies to connections already open (kept alive)
    inbound.on('data', (chunk: Buffer) => {
      const line = /^[A-Z]+ \S+ HTTP\/1\.1/.exec(chunk.subarray(0, 2048).toString('latin1'))?.[0];
      if (line || !this.#awaiting.has(inbound)) this.#awaiting.set(inbound, line ?? '');
      const delay = this.delayMs;
      if (delay > 0) setTimeout(() => outbound.destroyed || outbound.write(chunk), delay);
      else outbound.write(chunk);
    });
    inbound.on('end', () => outbound.end());
    outbound.on('data', () => this.#awaiting.delete(inbound));
    outbound.pipe(inbound);
  }

  /** The first lines of the requests through this path still waiting on their answer ("GET /api/v1/ping HTTP/1.1"). */
  get awaiting(): string[] {
    return [...this.#awaiting.values()];
  }

  /** Cuts the path: connections already through it break, new ones hang. Returns the requests it cut before their answer. */
  block(on: boolean): string[] {
    this.blocked = on;
    const cut = on ? this.awaiting : [];
    if (on) for (const s of this.#sockets) s.destroy();
    return cut;
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
  /** The path from one agent to another on one network, to slow it, cut it, or see requests waiting on it. */
  link(observer: string, peer: string, network: 'pod' | 'host'): Link;
  /** Stops one agent: its port closes, so peers are refused. */
  stopAgent(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Real agents started in-process on loopback, each with the others as static peers on the pod
 * and the host network. Every observer → peer path on each network goes through its own relay,
 * so a test can cut the network between groups of nodes.
 */
export async function startLoopbackCluster(opts: { names: string[]; intervalMs?: number; tokenFile?: string; fanout?: Record<string, unknown>; configure?: (name: string) => Record<string, unknown> }): Promise<LoopbackCluster> {
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
            fanout: { timeout: `${Math.round(interval * 0.8)}ms`, ...opts.fanout },
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
    link: (observer, peer, network) => links.get(key(observer, peer, network))!,
    async stopAgent(name) {
      await agents.get(name)!.stop();
    },
    close,
  };
}
