import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './agent-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Loopback addresses of their own (127.a.b.1, .2, ...), so that a port picked for one of them
 * cannot be taken meanwhile by the many servers other tests start on 127.0.0.1 port 0.
 */
export function loopbackAddresses(n: number): string[] {
  const a = 1 + Math.floor(Math.random() * 254);
  const b = 1 + Math.floor(Math.random() * 254);
  return Array.from({ length: n }, (_, i) => `127.${a}.${b}.${i + 1}`);
}

/** A port that was free a moment ago on the address (port 0 cannot be used where peers must know it in advance). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface PeerAgent {
  name: string;
  url: string;
  child: ChildProcess;
  dir: string;
  /** What the agent wrote, for failure messages. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `vigil agent` as a real process (optionally inside a network namespace) with the given
 * config, and waits until /readyz answers.
 */
export async function startPeerAgent(opts: { name: string; config: Record<string, unknown>; url: string; netns?: string; dir?: string; env?: Record<string, string> }): Promise<PeerAgent> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), `vigil-${opts.name}-`));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, stringify({ storage: { path: path.join(dir, 'data') }, log: { level: 'info' }, ...opts.config, node: { name: opts.name, ...(opts.config.node as object) } }));
  const args = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'agent', '--config.file', file];
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NAME: '', ...opts.env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: PeerAgent = {
    name: opts.name,
    url: opts.url,
    child,
    dir,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent ${opts.name} exited with ${child.exitCode}:\n${out}`);
    const ok = await (opts.netns ? netnsGet(opts.netns, `${opts.url}/readyz`) : fetch(`${opts.url}/readyz`).then((r) => r.ok)).catch(() => false);
    if (ok) return proc;
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`agent ${opts.name} not ready after 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a GET from inside the namespace answers 200 (the root namespace cannot reach it). */
function netnsGet(ns: string, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, 'curl', '-sf', '-m', '2', '-o', '/dev/null', url], { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** Starts several agents; if any fails, kills those that did start before rethrowing. */
export async function startAll(starts: readonly (() => Promise<PeerAgent>)[]): Promise<PeerAgent[]> {
  const settled = await Promise.allSettled(starts.map((f) => f()));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((a) => a.kill()));
    throw failed.reason;
  }
  return started;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls until fn returns a value other than undefined (the shared `eventually`, named for what is awaited first). */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return eventually(fn, timeoutMs, what);
}
