// Builds and runs the image with podman (through runc: crun fails on hosts with hybrid cgroups),
// as `npm run image` and an operator would. Containers are named by the test and removed by name.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './agent-process.ts';

export const IMAGE = `vigil:${(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`;

function runtime(): string[] {
  for (const p of ['/usr/sbin/runc', '/usr/bin/runc']) {
    if (spawnSync(p, ['--version']).status === 0) return ['--runtime', p];
  }
  return [];
}

/** Runs podman with the given arguments; throws with its output when it fails (unless allowed to). */
export function podman(args: string[], opts: { allowFailure?: boolean; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const r = spawnSync('podman', [...runtime(), ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  if (r.error) throw new Error(`cannot run podman ${args[0]}: ${r.error.message} (apt-get install podman runc)`, { cause: r.error });
  if (!opts.allowFailure && r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r;
}

/** `npm run image`: builds the bundle and the image (and, where missing, the base image: minutes). */
export function buildImage(): { image: string; output: string } {
  const r = spawnSync('bash', [path.join(REPO, 'scripts/image.sh')], { cwd: REPO, encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, VIGIL_IMAGE_ENGINE: 'podman' } });
  if (r.status !== 0) throw new Error(`npm run image failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return { image: IMAGE, output: r.stdout };
}

/** Removes the named container, whatever its state. */
export function removeContainer(name: string): void {
  podman(['rm', '--force', '--time', '5', name], { allowFailure: true });
}
