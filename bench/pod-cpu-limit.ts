// Does the probe pod's CPU limit slow its container's start (it was 10m; now 250m)? The limit is a CFS quota of 1 ms
// per 100 ms period on the container's cgroup, and the runtime's own init process (runc init:
// namespaces, mounts, then exec of the entrypoint) runs inside that cgroup before the pause
// binary does (kubernetes#22585). Measured with a real runtime: podman with runc, a static pause
// binary (built here with gcc, as registry.k8s.io/pause does: pause() until a signal), started
// without a CPU limit, with 10m, 100m and 250m, in rotating order, N rounds; the wall time of
// `podman run --detach` (which returns once the container runs) and the cgroup's throttling
// counters after the start.
//
//   node --import tsx bench/pod-cpu-limit.ts [--rounds 15]     (as root: podman, runc, gcc)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const PAIRS = Number(values.rounds);
if (!Number.isInteger(PAIRS) || PAIRS < 1) {
  process.stderr.write('usage: node --import tsx bench/pod-cpu-limit.ts [--rounds N]\n');
  process.exit(2);
}
const IMAGE = 'localhost/vigil-bench-pause:1';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}
const runtime = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => spawnSync(p, ['--version']).status === 0);
const podman = (args: string[]) => run('podman', [...(runtime ? ['--runtime', runtime] : []), ...args]);

// A pause binary, static, as the probe pod's image has.
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pause-'));
try {
  writeFileSync(path.join(dir, 'pause.c'), '#include <signal.h>\n#include <unistd.h>\nstatic void done(int s) { (void)s; _exit(0); }\nint main(void) { signal(SIGINT, done); signal(SIGTERM, done); for (;;) pause(); }\n');
  run('gcc', ['-static', '-O2', '-o', path.join(dir, 'pause'), path.join(dir, 'pause.c')]);
  run('tar', ['-C', dir, '-cf', path.join(dir, 'pause.tar'), 'pause']);
  podman(['import', '--change', 'ENTRYPOINT ["/pause"]', path.join(dir, 'pause.tar'), IMAGE]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The container's CFS counters (cgroup v2 cpu.stat, or v1 cpu.stat under the cpu controller). */
function throttled(id: string): { periods: number; throttled: number; throttledMs: number } | undefined {
  const pid = Number(podman(['inspect', '--format', '{{.State.Pid}}', id]).trim());
  const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v2 = cgroups.find((l) => l.startsWith('0::'));
  const v1 = cgroups.find((l) => /:(cpu,cpuacct|cpuacct,cpu|cpu):/.test(l));
  const file = v1 ? `/sys/fs/cgroup/${v1.split(':')[1]}${v1.split(':')[2]}/cpu.stat` : v2 ? `/sys/fs/cgroup${v2.slice(3)}/cpu.stat` : undefined;
  if (!file) return undefined;
  const stat = Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  const usec = stat.throttled_usec !== undefined ? Number(stat.throttled_usec) : Number(stat.throttled_time ?? 0) / 1000;
  return { periods: Number(stat.nr_periods ?? 0), throttled: Number(stat.nr_throttled ?? 0), throttledMs: usec / 1000 };
}

/** The limits compared: none, the probe pod's old 10m, 100m, and its 250m. */
const VARIANTS = [
  { name: 'no CPU limit', cpus: undefined },
  { name: 'limit 10m (--cpus 0.01)', cpus: '0.01' },
  { name: 'limit 100m (--cpus 0.1)', cpus: '0.1' },
  { name: 'limit 250m (--cpus 0.25)', cpus: '0.25' },
] as const;

function startOnce(cpus: string | undefined): { ms: number; throttle: ReturnType<typeof throttled> } {
  const started = process.hrtime.bigint();
  const id = podman(['run', '--detach', '--network', 'none', ...(cpus ? ['--cpus', cpus] : []), IMAGE]).trim();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const throttle = throttled(id);
  podman(['rm', '--force', '--time', '0', id]);
  return { ms, throttle };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
startOnce(undefined); // warm: image layers and podman's own caches
const results = VARIANTS.map(() => ({ ms: [] as number[], throttled: [] as number[], throttledMs: [] as number[] }));
for (let i = 0; i < PAIRS; i++) {
  // Each round runs every variant once, in an order that rotates, so drift in load hits all alike.
  for (let k = 0; k < VARIANTS.length; k++) {
    const v = (i + k) % VARIANTS.length;
    const r = startOnce(VARIANTS[v]!.cpus);
    results[v]!.ms.push(r.ms);
    if (r.throttle) {
      results[v]!.throttled.push(r.throttle.throttled);
      results[v]!.throttledMs.push(r.throttle.throttledMs);
    }
  }
}
podman(['rmi', IMAGE]);
const base = median(results[0]!.ms);
console.log(
  `pause container start (podman run --detach, ${runtime ?? 'default runtime'}), ${PAIRS} rounds, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}:`,
);
VARIANTS.forEach((v, i) => {
  const r = results[i]!;
  const m = median(r.ms);
  console.log(
    `  ${v.name.padEnd(26)} median ${m.toFixed(0)} ms (ratio ${(m / base).toFixed(2)}); throttled periods median ${r.throttled.length ? median(r.throttled) : 'n/a'}, throttled time median ${r.throttledMs.length ? median(r.throttledMs).toFixed(0) : 'n/a'} ms; all: ${r.ms.map((x) => x.toFixed(0)).join(' ')}`,
  );
});
