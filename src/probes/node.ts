import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { mem as readMemory } from 'systeminformation/lib/memory.js';
import { z } from 'zod';
import { ratio } from '../config/fields.ts';
import type { ProbeResult, Verdict } from '../verdict.ts';
import { defineProbe } from './probe.ts';
import { resultOf, type Problem } from './problems.ts';
import { nodeMetrics } from '../metrics/metrics.ts';
import { errorText } from '../errors.ts';

/** Data directories worth watching when they exist on the node, besides the root filesystem. */
const DATA_DIRS = ['/var/lib/etcd', '/var/lib/containerd', '/var/lib/docker', '/var/lib/crio', '/var/lib/kubelet'];

const thresholds = (warning: number, critical: number) =>
  z
    .strictObject({ warning: ratio().default(warning), critical: ratio().default(critical) })
    .refine((t) => t.warning < t.critical, { error: (iss) => `must be below critical (${(iss.input as { critical: number }).critical}), got ${(iss.input as { warning: number }).warning}`, path: ['warning'] })
    .prefault({});

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function judge(used: number, t: { warning: number; critical: number }): Verdict {
  return used >= t.critical ? 'critical' : used >= t.warning ? 'warning' : 'ok';
}

export const nodeProbe = defineProbe({
  name: 'node',
  defaultEnabled: true,
  defaultInterval: 30_000,
  defaultTimeout: 10_000,
  reasons: ['filesystem-full', 'memory-low', 'filesystem-unreadable'],
  options: z.object({
    /** Paths whose filesystems are watched, as the node sees them; default: / and the data directories that exist. */
    paths: z.array(z.string().startsWith('/', 'must be an absolute path')).min(1).optional(),
    /** Where the node's root filesystem is mounted in this container (node_exporter's --path.rootfs). */
    rootfs: z.string().startsWith('/', 'must be an absolute path').default('/'),
    filesystem: thresholds(0.8, 0.9),
    memory: thresholds(0.8, 0.9),
  }),
  create({ registry }, opts) {
    const metrics = nodeMetrics(registry);
    const paths = opts.paths ?? ['/', ...DATA_DIRS.filter((d) => existsSync(path.join(opts.rootfs, d)))];
    return {
      name: 'node',
      async run(): Promise<ProbeResult> {
        const problems: Problem[] = [];
        const observations: Record<string, number> = {};
        for (const p of paths) {
          try {
            const s = await statfs(path.join(opts.rootfs, p));
            const used = s.blocks - s.bfree;
            const usable = used + s.bavail; // as df counts it: blocks reserved for root are not usable
            const r = usable > 0 ? used / usable : 0;
            metrics.nodeFilesystemUsedRatio.set({ path: p }, r);
            observations[`filesystem ${p} used`] = Number(r.toFixed(4));
            const v = judge(r, opts.filesystem);
            if (v !== 'ok') problems.push({ verdict: v, reason: 'filesystem-full', text: `filesystem at ${p} is ${pct(r)} used (${v} at ${pct(v === 'critical' ? opts.filesystem.critical : opts.filesystem.warning)})` });
          } catch (err) {
            metrics.nodeFilesystemUsedRatio.remove({ path: p });
            problems.push({ verdict: 'warning', reason: 'filesystem-unreadable', text: `cannot read the filesystem at ${p}: ${(err as NodeJS.ErrnoException).code ?? errorText(err)}` });
          }
        }
        const mem = await readMemory();
        const available = mem.total > 0 ? mem.available / mem.total : 1;
        metrics.nodeMemoryAvailableRatio.set(available);
        observations['memory available'] = Number(available.toFixed(4));
        const mv = judge(1 - available, opts.memory);
        if (mv !== 'ok') problems.push({ verdict: mv, reason: 'memory-low', text: `memory is ${pct(1 - available)} used, ${Math.round(mem.available / 2 ** 20)} MiB available` });

        return resultOf(problems, () => `${paths.length} filesystem(s) and memory within thresholds`, observations);
      },
    };
  },
});
