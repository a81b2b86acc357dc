import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command; rejects with its stderr. */
export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return runStatus(cmd, args, timeoutMs).then((r) => {
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  });
}

/** Runs a command; resolves with its exit code and output whatever the code. */
export function runStatus(cmd: string, args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
    });
  });
}

export interface SimHost {
  name: string;
  ns: string;
  /** On the "host" network (198.18.0.0/24). */
  hostIP: string;
  /** On the "pod" network (198.18.1.0/24), standing in for the overlay. */
  podIP: string;
}

export interface Topology {
  suffix: string;
  hosts: SimHost[];
  /** The namespace holding both bridges. */
  fabric: string;
  /** The fabric's own address on the host network, for a service every host can reach (198.18.0.2). */
  fabricIP: string;
  /** Runs a command inside a host's namespace. */
  exec(host: string, cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  /** Drops traffic arriving at `host` from `from` over the given networks (nftables inside the namespace). */
  drop(host: string, from: string, networks: readonly ('pod' | 'host')[]): Promise<void>;
  /** Removes every drop rule of every host. */
  heal(): Promise<void>;
  /** GET from inside a host's namespace: status and body (curl). */
  get(host: string, url: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  destroy(): Promise<void>;
}

/**
 * Hosts as network namespaces, each with a "host" and a "pod" interface on two bridges that live
 * in their own namespace, so nothing is added to the root namespace. Names carry a random suffix.
 */
export async function createTopology(names: readonly string[]): Promise<Topology> {
  const suffix = randomBytes(3).toString('hex');
  const fabric = `vgf-${suffix}`;
  const created: string[] = [];
  const hosts = names.map((name, i) => ({ name, ns: `vg${i}-${suffix}`, hostIP: `198.18.0.${10 + i}`, podIP: `198.18.1.${10 + i}` }));
  const ip = (...args: string[]) => run('ip', args);
  const topo: Topology = {
    suffix,
    hosts,
    fabric,
    fabricIP: '198.18.0.2',
    exec: (host, cmd, args, timeoutMs) => run('ip', ['netns', 'exec', byName(host).ns, cmd, ...args], timeoutMs),
    async drop(host, from, networks) {
      const h = byName(host);
      const f = byName(from);
      for (const n of networks) await run('ip', ['netns', 'exec', h.ns, 'nft', 'add', 'rule', 'inet', 'vigiltest', 'input', 'ip', 'saddr', n === 'pod' ? f.podIP : f.hostIP, 'drop']);
    },
    async heal() {
      for (const h of hosts) await run('ip', ['netns', 'exec', h.ns, 'nft', 'flush', 'chain', 'inet', 'vigiltest', 'input']);
    },
    async get(host, url, headers = {}) {
      const hdr = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
      const out = await run('ip', ['netns', 'exec', byName(host).ns, 'curl', '-s', '-m', '10', ...hdr, '-w', '\n%{http_code}', url], 15_000);
      const at = out.lastIndexOf('\n');
      return { status: Number(out.slice(at + 1)), body: out.slice(0, at) };
    },
    async destroy() {
      for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    },
  };
  function byName(name: string): SimHost {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no simulated host ${name}`);
    return h;
  }
  try {
    await ip('netns', 'add', fabric);
    created.push(fabric);
    await ip('-n', fabric, 'link', 'set', 'lo', 'up');
    for (const br of ['brhost', 'brpod']) {
      await ip('-n', fabric, 'link', 'add', br, 'type', 'bridge');
      await ip('-n', fabric, 'link', 'set', br, 'up');
    }
    await ip('-n', fabric, 'addr', 'add', '198.18.0.2/24', 'dev', 'brhost');
    for (const [i, h] of hosts.entries()) {
      await ip('netns', 'add', h.ns);
      created.push(h.ns);
      await ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      for (const [net, addr] of [
        ['host', h.hostIP],
        ['pod', h.podIP],
      ] as const) {
        const outer = `${net[0]}${i}-${suffix}`;
        await ip('-n', h.ns, 'link', 'add', `${net}0`, 'type', 'veth', 'peer', 'name', outer, 'netns', fabric);
        await ip('-n', h.ns, 'addr', 'add', `${addr}/24`, 'dev', `${net}0`);
        await ip('-n', h.ns, 'link', 'set', `${net}0`, 'up');
        await ip('-n', fabric, 'link', 'set', outer, 'master', `br${net}`);
        await ip('-n', fabric, 'link', 'set', outer, 'up');
      }
      await run('ip', ['netns', 'exec', h.ns, 'nft', 'add', 'table', 'inet', 'vigiltest']);
      await run('ip', ['netns', 'exec', h.ns, 'nft', 'add', 'chain', 'inet', 'vigiltest', 'input', '{ type filter hook input priority 0; policy accept; }']);
    }
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}
