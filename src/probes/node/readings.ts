import { existsSync } from 'node:fs';
import { readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { errorText } from '../../errors.ts';

/*
 * What the node probe reads, as pure functions over what the kernel reports (tested on fixtures),
 * and the little I/O that fetches it (NodeIo, injected).
 *
 * systeminformation is not the tool for the filesystems: its fsSize() runs `df` in a child process
 * on every call and parses its columns, and lists mounts, not the filesystem holding a given path.
 * fs.statfs() on the path is one system call and gives the kernel's exact block counts. For memory,
 * on Linux si.mem() only reads /proc/meminfo, so the probe reads it itself and can say when the
 * kernel gives no MemAvailable; systeminformation stays for other systems (a developer's Mac),
 * where it knows each one's tools, and is loaded only there.
 */

/** The block counts statfs(2) reports; the ratio does not depend on the block size. */
export interface StatfsNumbers {
  /** Total data blocks. */
  blocks: number;
  /** Free blocks, including those reserved for root. */
  bfree: number;
  /** Free blocks an unprivileged user may use. */
  bavail: number;
}

/**
 * The used fraction of a filesystem as `df` counts it: blocks reserved for root are neither used
 * nor usable, so a filesystem whose non-reserved blocks are all taken reads 1. A filesystem
 * without blocks (procfs, an empty tmpfs without a size) reads 0.
 */
export function usedRatio(s: StatfsNumbers): number {
  const used = s.blocks - s.bfree;
  const usable = used + s.bavail;
  return usable > 0 ? Math.min(1, Math.max(0, used / usable)) : 0;
}

export interface Memory {
  totalBytes: number;
  availableBytes: number;
  /** The kernel gives no MemAvailable (before 3.14): availableBytes is the probe's estimate. */
  estimated: boolean;
}

/**
 * Total and available memory from the text of /proc/meminfo. Without MemAvailable, the estimate
 * is the lower bound of the kernel's own (si_mem_available): free memory plus half the file page
 * cache and half the reclaimable slab, the watermarks it also needs being in /proc/zoneinfo.
 * Throws an error naming what is missing when the text is not meminfo.
 */
export function parseMeminfo(text: string): Memory {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined || total === 0) throw new Error('no MemTotal line');
  const bytes = (k: number) => k * 1024;
  const available = kb.get('MemAvailable');
  if (available !== undefined) return { totalBytes: bytes(total), availableBytes: bytes(Math.min(available, total)), estimated: false };
  const free = kb.get('MemFree');
  if (free === undefined) throw new Error('neither MemAvailable nor MemFree');
  // The file LRU lists (2.6.28 on) hold the page cache, buffers included; before them, Buffers + Cached.
  const active = kb.get('Active(file)');
  const inactive = kb.get('Inactive(file)');
  const pageCache = active !== undefined && inactive !== undefined ? active + inactive : (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  const estimate = free + pageCache / 2 + (kb.get('SReclaimable') ?? 0) / 2;
  return { totalBytes: bytes(total), availableBytes: bytes(Math.min(Math.floor(estimate), total)), estimated: true };
}

export interface FilesystemReading extends StatfsNumbers {
  /** st_dev of the path: paths on one filesystem share it, whatever mount they are reached through. */
  device: number | bigint;
}

/**
 * Paths on the same filesystem, once each: the first path in the given order reports it, and the
 * others are listed with it. (A btrfs subvolume has a device of its own, so it counts apart.)
 */
export function sameFilesystems<T extends { path: string; device: number | bigint }>(readings: readonly T[]): (T & { alsoAt: string[] })[] {
  const first = new Map<string, T & { alsoAt: string[] }>();
  for (const r of readings) {
    const seen = first.get(String(r.device));
    if (seen) seen.alsoAt.push(r.path);
    else first.set(String(r.device), { ...r, alsoAt: [] });
  }
  return [...first.values()];
}

/** The node probe's view of the machine. Paths are as the node sees them (`/var/lib/etcd`). */
export interface NodeIo {
  exists(nodePath: string): boolean;
  filesystem(nodePath: string): Promise<FilesystemReading>;
  memory(): Promise<Memory>;
}

/**
 * The real machine, with the node's root filesystem mounted at `rootfs` (node_exporter's
 * --path.rootfs): paths are read under it. Memory comes from /proc/meminfo as this process sees
 * it, which is the node's: the kernel keeps one for all containers.
 */
export function hostIo(rootfs: string): NodeIo {
  const onHost = (p: string) => path.join(rootfs, p);
  return {
    exists: (p) => existsSync(onHost(p)),
    async filesystem(p) {
      const [fs, st] = await Promise.all([statfs(onHost(p)), stat(onHost(p))]);
      return { device: st.dev, blocks: fs.blocks, bfree: fs.bfree, bavail: fs.bavail };
    },
    async memory() {
      if (process.platform !== 'linux') {
        const { default: si } = await import('systeminformation');
        const m = await si.mem();
        return { totalBytes: m.total, availableBytes: m.available, estimated: false };
      }
      const text = await readFile('/proc/meminfo', 'utf8');
      try {
        return parseMeminfo(text);
      } catch (err) {
        throw new Error(`/proc/meminfo: ${errorText(err)}`, { cause: err });
      }
    },
  };
}
