import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Files for a TLS-only client port that requires client certificates. */
export interface EtcdTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface EtcdLaunchOptions {
  tls?: EtcdTls;
  /** Extra etcd flags, e.g. ['--quota-backend-bytes=1048576']. */
  args?: string[];
}

/** A free loopback port, found by binding port 0 and letting go of it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One etcd member started by a test, on loopback, with its own temporary data directory. */
export class EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly #args: string[];
  #proc: ChildProcess | undefined;
  #log = '';

  constructor(opts: { name: string; clientPort: number; peerPort: number; dataDir: string; args: string[] }) {
    this.name = opts.name;
    this.clientPort = opts.clientPort;
    this.peerPort = opts.peerPort;
    this.dataDir = opts.dataDir;
    this.#args = opts.args;
  }

  /** host:port as the probe is configured with it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.#proc && this.#proc.exitCode === null && this.#proc.signalCode === null ? this.#proc.pid : undefined;
  }

  get log(): string {
    return this.#log;
  }

  /** Starts the process (again, on the same data directory after a stop). */
  spawn(): void {
    if (this.pid !== undefined) throw new Error(`etcd ${this.name} is already running`);
    this.#log = '';
    const proc = spawn('/usr/bin/etcd', this.#args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d: Buffer) => (this.#log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.#log += d.toString()));
    this.#proc = proc;
  }

  /** Resolves once the member serves clients (which, in a cluster, needs a quorum). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/serving client traffic|ready to serve client requests/.test(this.#log)) {
      if (this.pid === undefined) throw new Error(`etcd ${this.name} exited: ${this.#log.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`etcd ${this.name} not ready within ${timeoutMs} ms: ${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  /** Kills the process by its PID (SIGKILL) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.#proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  }

  /** Stops the member as an upgrade does (SIGTERM: it hands over leadership and closes cleanly) and waits for it to be gone. */
  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  /** Kills every member and removes the data directories. */
  stop(): Promise<void>;
}

function memoryDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/**
 * Starts a cluster of `size` members on free loopback ports, each with a temporary data directory.
 * Short heartbeats and elections make leader loss show within a second.
 */
export async function startEtcdCluster(size = 1, opts: EtcdLaunchOptions = {}): Promise<EtcdCluster> {
  // In memory where the machine has it: the tests' fsyncs then cost what strace makes them cost,
  // whatever the host's disk is doing.
  const root = mkdtempSync(path.join(memoryDir(), 'vigil-etcd-'));
  const scheme = opts.tls ? 'https' : 'http';
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const token = `vigil-test-${path.basename(root)}`;
  const members = ports.map((p, i) => {
    const dataDir = path.join(root, `m${i}`);
    const args = [
      `--name=m${i}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${scheme}://127.0.0.1:${p.client}`,
      `--advertise-client-urls=${scheme}://127.0.0.1:${p.client}`,
      `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-token=${token}`,
      '--initial-cluster-state=new',
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--log-level=info',
      '--logger=zap',
      ...(opts.tls ? [`--cert-file=${opts.tls.certFile}`, `--key-file=${opts.tls.keyFile}`, `--trusted-ca-file=${opts.tls.caFile}`, '--client-cert-auth'] : []),
      ...(opts.args ?? []),
    ];
    return new EtcdMember({ name: `m${i}`, clientPort: p.client, peerPort: p.peer, dataDir, args });
  });
  const stop = async () => {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const m of members) m.spawn();
    await Promise.all(members.map((m) => m.ready()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, endpoints: members.map((m) => m.endpoint), stop };
}

/**
 * A slow disk under a running member: strace holds every fdatasync/fsync of the process for
 * `delayMs` on its way out. Resolves once strace is attached, with a function that detaches it
 * (strace lets go of the process on SIGTERM; etcd keeps running).
 */
export async function slowDisk(pid: number, delayMs: number): Promise<() => Promise<void>> {
  const strace = spawn('strace', ['-f', '-qq', '-p', String(pid), '-e', 'trace=fdatasync,fsync', '-e', `inject=fdatasync,fsync:delay_exit=${delayMs * 1000}`, '-o', '/dev/null'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  strace.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => strace.once('exit', r));
  const detach = async () => {
    if (strace.exitCode === null && strace.signalCode === null) strace.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 10_000;
  // Attached once the kernel names a tracer for the process.
  while (!/^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) {
    if (strace.exitCode !== null || Date.now() > deadline) {
      await detach();
      throw new Error(`strace did not attach to ${pid}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return detach;
}
