import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(REPO, 'src/cli/main.ts');
/** The shipped artifact: executable, its shebang carries the node flags (scripts/build.mjs). */
export const BUNDLE = path.join(REPO, 'dist/vigil.mjs');

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  /** Every line the agent logged so far. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Ends this agent by its PID, if it is still running. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** YAML written to a config file passed with --config.file. */
  config?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] to start the agent inside a namespace. */
  prefix?: string[];
  startTimeoutMs?: number;
  /** Run the built artifact (dist/vigil.mjs through its shebang, as the package's bin and the image do; `npm run build` first) instead of the sources through tsx; a string is the path of a bundle built elsewhere. */
  built?: boolean | string;
  /** Flags for node itself (with `built`: instead of the bundle's own). */
  nodeFlags?: string[];
}

/** The command that runs vigil: the sources through tsx, or the bundle through its shebang (or under nodeFlags). */
function entryCommand(opts: SpawnOptions): string[] {
  if (!opts.built) return [process.execPath, ...(opts.nodeFlags ?? []), '--import', 'tsx', MAIN];
  const bundle = typeof opts.built === 'string' ? opts.built : BUNDLE;
  return opts.nodeFlags ? [process.execPath, ...opts.nodeFlags, bundle] : [bundle];
}

/** Starts `vigil agent` as a child process and waits until it listens. */
export async function spawnAgent(opts: SpawnOptions = {}): Promise<AgentProcess> {
  const args = [...(opts.args ?? [])];
  let configDir: string | undefined;
  if (opts.config !== undefined) {
    configDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
    const file = path.join(configDir, 'vigil.yaml');
    writeFileSync(file, opts.config);
    args.unshift('--config.file', file);
  }
  if (!args.some((a) => a.startsWith('--web.listen-address'))) args.push('--web.listen-address', '127.0.0.1:0');
  // The bundle with nodeFlags runs under exactly those flags instead of its shebang's (benchmarks compare flag sets).
  const command = [...(opts.prefix ?? []), ...entryCommand(opts), 'agent', ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      logs.push(line);
      for (const w of waiters) {
        if (!w.pattern.test(line)) continue;
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      if (configDir) rmSync(configDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  const waitForLog = (pattern: RegExp, timeoutMs = 30_000) => {
    const seen = logs.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const w = { pattern, resolve };
      waiters.add(w);
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`agent did not log ${pattern} within ${timeoutMs} ms; it logged:\n${logs.join('\n')}`));
      }, timeoutMs);
      void exited.then(() => {
        if (!waiters.has(w)) return;
        clearTimeout(t);
        waiters.delete(w);
        reject(new Error(`agent exited before logging ${pattern}; it logged:\n${logs.join('\n')}`));
      });
      const origResolve = w.resolve;
      w.resolve = (line) => {
        clearTimeout(t);
        origResolve(line);
      };
    });
  };
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, signal);
  };
  try {
    const line = await waitForLog(/vigil agent started/, opts.startTimeoutMs ?? 30_000);
    const port = (JSON.parse(line) as { port: number }).port;
    const listen = args[args.lastIndexOf('--web.listen-address') + 1] ?? '';
    const host = listen.replace(/:\d+$/, '');
    const urlHost = host === '' || host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
    return { child, pid: child.pid!, url: `http://${urlHost}:${port}`, port, logs, exited, waitForLog, kill };
  } catch (err) {
    kill();
    throw err;
  }
}

/** Polls until check returns a value other than undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms${lastErr instanceof Error ? `: ${lastErr.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
