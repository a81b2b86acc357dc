import { z } from 'zod';
import { ratio } from '../../config/fields.ts';
import { errorText } from '../../errors.ts';
import { nodeMetrics } from '../../metrics/metrics.ts';
import type { ProbeResult, Verdict } from '../../verdict.ts';
import { hostIo, sameFilesystems, usedRatio, type FilesystemReading, type NodeIo } from './readings.ts';
import { defineProbe, type ProbeDefinition } from '../probe.ts';
import { resultOf, type Problem } from '../problems.ts';

/** Data directories worth watching when they exist on the node, besides the root filesystem. */
const DATA_DIRS = ['/var/lib/etcd', '/var/lib/containerd', '/var/lib/docker', '/var/lib/crio', '/var/lib/kubelet'];

const thresholds = (warning: number, critical: number) =>
  z
    .strictObject({ warning: ratio().default(warning), critical: ratio().default(critical) })
    .refine((t) => t.warning < t.critical, { error: (iss) => `must be below critical (${(iss.input as { critical: number }).critical}), got ${(iss.input as { warning: number }).warning}`, path: ['warning'] })
    .prefault({});

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const MiB = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

function judge(used: number, t: { warning: number; critical: number }): Verdict {
  return used >= t.critical ? 'critical' : used >= t.warning ? 'warning' : 'ok';
}

/** The node probe, reading the machine through `io` (the real one in production, fixtures in tests). */
export function nodeProbeOn(io: (rootfs: string) => NodeIo): ProbeDefinition {
  return defineProbe({
    name: 'node',
    defaultEnabled: true,
    defaultInterval: 30_000,
    defaultTimeout: 10_000,
    reasons: ['filesystem-full', 'memory-low', 'filesystem-unreadable', 'memory-unreadable'],
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
      // No figure until one is read: a 0 would say no memory is available.
      metrics.nodeMemoryAvailableRatio.remove({});
      const node = io(opts.rootfs);
      const paths = opts.paths ?? ['/', ...DATA_DIRS.filter((d) => node.exists(d))];
      return {
        async run(): Promise<ProbeResult> {
          const problems: Problem[] = [];
          const observations: Record<string, number> = {};

          const readings: (FilesystemReading & { path: string })[] = [];
          for (const p of paths) {
            try {
              readings.push({ path: p, ...(await node.filesystem(p)) });
            } catch (err) {
              metrics.nodeFilesystemUsedRatio.remove({ path: p });
              problems.push({ verdict: 'warning', reason: 'filesystem-unreadable', text: `cannot read the filesystem at ${p}: ${(err as NodeJS.ErrnoException).code ?? errorText(err)}` });
            }
          }
          const filesystems = sameFilesystems(readings);
          for (const fs of filesystems) {
            const r = usedRatio(fs);
            metrics.nodeFilesystemUsedRatio.set({ path: fs.path }, r);
            // A path that shares the filesystem of an earlier one is reported under that one only.
            for (const other of fs.alsoAt) metrics.nodeFilesystemUsedRatio.remove({ path: other });
            observations[`filesystem ${fs.path} used`] = Number(r.toFixed(4));
            const v = judge(r, opts.filesystem);
            const also = fs.alsoAt.length > 0 ? ` (also holding ${fs.alsoAt.join(', ')})` : '';
            if (v !== 'ok') problems.push({ verdict: v, reason: 'filesystem-full', text: `filesystem at ${fs.path}${also} is ${pct(r)} used (${v} at ${pct(v === 'critical' ? opts.filesystem.critical : opts.filesystem.warning)})` });
          }

          try {
            const mem = await node.memory();
            const available = mem.availableBytes / mem.totalBytes;
            metrics.nodeMemoryAvailableRatio.set(available);
            observations['memory available'] = Number(available.toFixed(4));
            const mv = judge(1 - available, opts.memory);
            const how = mem.estimated ? ' (estimated: the kernel reports no MemAvailable)' : '';
            if (mv !== 'ok') problems.push({ verdict: mv, reason: 'memory-low', text: `memory is ${pct(1 - available)} used, ${MiB(mem.availableBytes)} available${how}` });
          } catch (err) {
            metrics.nodeMemoryAvailableRatio.remove({});
            problems.push({ verdict: 'warning', reason: 'memory-unreadable', text: `cannot read the memory figures: ${errorText(err)}` });
          }

          return resultOf(problems, () => `${filesystems.length} filesystem(s) and memory within thresholds`, observations);
        },
      };
    },
  });
}

export const nodeProbe = nodeProbeOn(hostIo);
