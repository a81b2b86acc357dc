import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** A /proc/net/tcp address (hex, little-endian IPv4 or IPv6 words) as host:port. */
function address(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  const p = Number.parseInt(port, 16);
  if (ip.length === 8) return `${[0, 1, 2, 3].map((i) => Number.parseInt(ip.slice(6 - 2 * i, 8 - 2 * i), 16)).join('.')}:${p}`;
  return `[${ip}]:${p}`;
}

/**
 * Socket inode -> what it is, in the process's network namespace: "tcp listening <addr>", "tcp
 * accepted on <addr>" (a connection to one of the listening ports), or "tcp -> <remote>".
 */
function sockets(pid: number, names: Record<string, string>): Map<string, string> {
  const rows: { proto: string; local: string; remote: string; inode: string }[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10) rows.push({ proto, local: address(f[1]!), remote: address(f[2]!), inode: f[9]! });
    }
  }
  const port = (a: string) => a.slice(a.lastIndexOf(':') + 1);
  const listening = new Set(rows.filter((r) => r.remote.endsWith(':0')).map((r) => port(r.local)));
  const named = (a: string) => (names[a] ? `${a} (${names[a]})` : a);
  return new Map(rows.map((r) => [r.inode, `${r.proto} ${r.remote.endsWith(':0') ? `listening ${r.local}` : listening.has(port(r.local)) ? `accepted on ${r.local}` : `-> ${named(r.remote)}`}`]));
}

/**
 * What a process's open file handles are, counted by kind: files by path, TCP sockets by the
 * address they are connected to (or listen on), unix sockets, pipes, eventfds and the like. For
 * a failure message that says which handles a leak is made of. `names`: host:port -> what listens
 * there (say, "etcd member"), to name the far end of a connection.
 */
export function fdKinds(pid: number, names: Record<string, string> = {}): Map<string, number> {
  const socks = sockets(pid, names);
  const out = new Map<string, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const kind = inode ? (socks.get(inode) ?? 'unix or other socket') : target.replace(/\[\d+\]$/, '');
    out.set(kind, (out.get(kind) ?? 0) + 1);
  }
  return out;
}

/** The kinds whose count differs between two readings, as "kind: a -> b". */
export function fdDiff(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])]
    .filter((k) => (before.get(k) ?? 0) !== (after.get(k) ?? 0))
    .sort()
    .map((k) => `${k}: ${before.get(k) ?? 0} -> ${after.get(k) ?? 0}`);
}
