// Starts the shipped artifact (dist/vigil.mjs, built by `npm run build`) the way the image and the
// package's bin do: executed directly, so its shebang's V8 flags apply. Benchmarks never run tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHIPPED = fileURLToPath(new URL('../dist/vigil.mjs', import.meta.url));

export interface Running {
  child: ChildProcess;
  pid: number;
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

/** Runs `<artifact> agent` with this config (YAML) and waits until it listens. `prefix`: e.g. a command that enters a cgroup first. */
export async function startArtifact(config: string, opts: { artifact?: string; prefix?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Running> {
  const artifact = opts.artifact ?? SHIPPED;
  if (!existsSync(artifact)) throw new Error(`${artifact} does not exist: run \`npm run build\` first`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-config-'));
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, config);
  const command = [...(opts.prefix ?? []), artifact, 'agent', '--config.file', file, '--web.listen-address', '127.0.0.1:0'];
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not started after ${opts.timeoutMs ?? 30_000} ms:\n${logs.join('\n')}`)), opts.timeoutMs ?? 30_000);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        if (logs.length < 2000) logs.push(line);
        if (line.includes('vigil agent started')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`agent exited before it started:\n${logs.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { child, pid: child.pid!, url: `http://127.0.0.1:${port}`, logs, stop };
}
