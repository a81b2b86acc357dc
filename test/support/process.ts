import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from './agent-process.ts';

/** A child process started by a test or the demo; ended only through its own handle, by PID. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last 20 kB it wrote, for failure messages. */
  output(): string;
  running(): boolean;
  /** Sends the signal (SIGTERM, then SIGKILL after graceMs) and waits for the exit. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

export function startProcess(opts: { name: string; command: string; args: string[]; cwd?: string; env?: NodeJS.ProcessEnv }): ManagedProcess {
  const child = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A command that cannot be started emits 'error' (and has no pid); keep that from crashing the caller.
  child.once('error', (err) => keep(Buffer.from(`${err.message}\n`)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (child.pid === undefined) throw new Error(`cannot start ${opts.name}: ${opts.command} not found or not executable`);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name: opts.name,
    child,
    pid: child.pid,
    output: () => out,
    running,
    async stop({ signal = 'SIGTERM', graceMs = 5000 } = {}) {
      if (!running()) return;
      child.kill(signal);
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until GET url answers 2xx while the process runs. */
export async function waitReady(proc: ManagedProcess, url: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      if (!proc.running()) throw new Error(`${proc.name} exited:\n${proc.output()}`);
      const r = await fetch(url).catch(() => undefined);
      return r?.ok ? true : undefined;
    },
    timeoutMs,
    `${proc.name} answering ${url}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output().slice(-3000)}`, { cause: err });
  });
}
