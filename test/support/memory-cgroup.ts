// A memory cgroup made by a test, with a hard limit, to run a process under the memory a pod would
// get: cgroup v1 (the memory controller's own hierarchy: memory.limit_in_bytes, memory.oom_control)
// or cgroup v2 (the unified hierarchy: memory.max, memory.events). Needs root, as the test suite has
// in CI; without a writable memory controller it throws, naming what it tried.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface MemoryCgroup {
  version: 1 | 2;
  dir: string;
  limitBytes: number;
  /** Command prefix that moves itself into the cgroup, then execs the rest (so the PID stays the same). */
  prefix: string[];
  /** Processes the kernel's OOM killer killed in this cgroup. */
  oomKills(): number;
  /** Times usage hit the limit (v1 memory.failcnt; v2 memory.events max): reclaim, not necessarily a kill. */
  limitHits(): number;
  /** The highest usage charged to the cgroup (page cache included), if the kernel reports it. */
  peakBytes(): number | undefined;
  /** Anonymous memory charged now (heap, stacks: what cannot be reclaimed without swap). */
  anonBytes(): number;
  contains(pid: number): boolean;
  /** Removes the cgroup once its processes are gone (they must be stopped first). */
  remove(): Promise<void>;
}

interface Mount {
  type: string;
  dir: string;
  options: string[];
}

const mounts = (): Mount[] =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, dir, type, options] = l.split(' ');
      return { type: type!, dir: dir!.replace(/\\040/g, ' '), options: options!.split(',') };
    });

const field = (text: string, key: string): number | undefined => {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

const readNumber = (file: string): number | undefined => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined);

/** Writes a file of the cgroup, turning the kernel's refusal into an error that names the file. */
function write(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (err) {
    throw new Error(`cannot write ${value} to ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** A command prefix that moves itself into the cgroup at `dir`, then execs the rest (so the PID stays the same). */
export const enterPrefix = (dir: string) => ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir];

/** Removes a cgroup once its processes are gone: one whose last process has just exited can stay busy for a moment. */
export async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (i >= 50) throw new Error(`cannot remove the cgroup ${dir}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function base(version: 1 | 2, dir: string, limitBytes: number, more: Pick<MemoryCgroup, 'oomKills' | 'limitHits' | 'peakBytes' | 'anonBytes'>): MemoryCgroup {
  // The kernel names the cgroup by its path below the hierarchy's mount in /proc/<pid>/cgroup.
  const mount = mounts().find((m) => dir.startsWith(`${m.dir}/`) && (version === 2 ? m.type === 'cgroup2' : m.options.includes('memory')))!;
  const rel = dir.slice(mount.dir.length);
  return {
    version,
    dir,
    limitBytes,
    prefix: enterPrefix(dir),
    ...more,
    contains: (pid) =>
      readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .split('\n')
        .some((l) => {
          const [, controllers, p] = l.split(':');
          return p === rel && (version === 2 ? controllers === '' : controllers!.split(',').includes('memory'));
        }),
    remove: () => removeCgroup(dir),
  };
}

function createV1(root: string, name: string, limitBytes: number): MemoryCgroup {
  const dir = path.join(root, name);
  mkdirSync(dir);
  try {
    write(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    // With swap accounting, memory+swap gets the same limit: the pod cannot swap either.
    if (existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'))) write(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return base(1, dir, limitBytes, {
    oomKills: () => field(readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'), 'oom_kill') ?? 0,
    limitHits: () => readNumber(path.join(dir, 'memory.failcnt')) ?? 0,
    peakBytes: () => readNumber(path.join(dir, 'memory.max_usage_in_bytes')),
    anonBytes: () => field(readFileSync(path.join(dir, 'memory.stat'), 'utf8'), 'total_rss') ?? 0,
  });
}

function createV2(root: string, name: string, limitBytes: number): MemoryCgroup {
  const controllers = readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  if (!controllers.includes('memory')) write(path.join(root, 'cgroup.subtree_control'), '+memory');
  const dir = path.join(root, name);
  mkdirSync(dir);
  try {
    write(path.join(dir, 'memory.max'), String(limitBytes));
    if (existsSync(path.join(dir, 'memory.swap.max'))) write(path.join(dir, 'memory.swap.max'), '0');
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  const events = () => readFileSync(path.join(dir, 'memory.events'), 'utf8');
  return base(2, dir, limitBytes, {
    oomKills: () => field(events(), 'oom_kill') ?? 0,
    limitHits: () => field(events(), 'max') ?? 0,
    peakBytes: () => readNumber(path.join(dir, 'memory.peak')),
    anonBytes: () => field(readFileSync(path.join(dir, 'memory.stat'), 'utf8'), 'anon') ?? 0,
  });
}

/** Makes a memory cgroup named `name` limited to limitBytes, on whichever hierarchy holds the memory controller. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const tried: string[] = [];
  const all = mounts();
  const v1 = all.find((m) => m.type === 'cgroup' && m.options.includes('memory'));
  if (v1) {
    try {
      return createV1(v1.dir, name, limitBytes);
    } catch (err) {
      tried.push(`cgroup v1 at ${v1.dir}: ${(err as Error).message}`);
    }
  }
  const v2 = all.find((m) => m.type === 'cgroup2' && existsSync(path.join(m.dir, 'cgroup.controllers')) && readFileSync(path.join(m.dir, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory'));
  if (v2) {
    try {
      return createV2(v2.dir, name, limitBytes);
    } catch (err) {
      tried.push(`cgroup v2 at ${v2.dir}: ${(err as Error).message}`);
    }
  }
  if (!v1 && !v2) tried.push('no cgroup v1 hierarchy with the memory controller and no cgroup v2 hierarchy offering it are mounted (/proc/self/mounts)');
  throw new Error(`cannot make a memory cgroup (the test needs root and a memory controller): ${tried.join('; ')}`);
}

/**
 * Writes these files out and drops them from the page cache, so the first process to read them is
 * charged for their pages, as a container is for its image's files. Without this, code pages (the
 * node binary above all) already cached are charged to whoever read them first, not to the cgroup.
 * Pages some process has mapped stay: drop only files no running process maps.
 */
export function dropFromPageCache(files: string[]): void {
  execFileSync('sync', files);
  for (const f of files) execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
}
