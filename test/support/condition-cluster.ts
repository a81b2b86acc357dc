// Real agents with kubernetes.nodeConditions on against one API simulator: what the node
// condition tests share (the simulator, the agents' addresses, the conditions and events written).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiSim, writeKubeconfig } from './apisim/index.ts';
import { freePort, loopbackAddresses, removeDir, type PeerAgent } from './peer-agents.ts';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
export interface ClusterEvent {
  type: string;
  reason: string;
  involvedObject: { name: string };
}

export interface ConditionCluster {
  sim: ApiSim;
  dir: string;
  kubeconfig: string;
  agents: PeerAgent[];
  /** A free address on each node's own loopback IP, as many per node as asked. */
  addresses(n?: number): Promise<Map<string, string[]>>;
  condition(node: string, type: string): Condition | undefined;
  /** The Events written, as "node type reason". */
  events(): string[];
  stop(): Promise<void>;
}

export async function startConditionCluster(names: string[], prefix: string): Promise<ConditionCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const sim = await ApiSim.start({ nodes: names });
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const c: ConditionCluster = {
    sim,
    dir,
    kubeconfig,
    agents: [],
    async addresses(n = 1) {
      const ips = loopbackAddresses(names.length);
      const out = new Map<string, string[]>();
      for (const [i, name] of names.entries()) {
        const ip = ips[i]!;
        const list: string[] = [];
        for (let k = 0; k < n; k++) list.push(`${ip}:${await freePort(ip)}`);
        out.set(name, list);
      }
      return out;
    },
    condition: (node, type) => ((sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as Condition[]).find((x) => x.type === type),
    events: () => (sim.store.list('events') as unknown as ClusterEvent[]).map((e) => `${e.involvedObject.name} ${e.type} ${e.reason}`),
    async stop() {
      await Promise.all(c.agents.map((a) => a.kill()));
      await sim.stop();
      removeDir(dir);
    },
  };
  return c;
}

/** Polls until `done()` holds or `ms` pass; the caller asserts. */
export async function settle(done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
