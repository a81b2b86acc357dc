import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { hostIo, parseMeminfo, sameFilesystems, usedRatio } from './readings.ts';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

describe('parseMeminfo', () => {
  it('takes MemAvailable when the kernel gives it (3.14 on)', () => {
    assert.deepEqual(parseMeminfo(fixture('meminfo-6.18.txt')), { totalBytes: 24684084 * 1024, availableBytes: 22059120 * 1024, estimated: false });
  });

  it('estimates it from free memory, half the file page cache and half the reclaimable slab before 3.14', () => {
    // 1205432 + (980440 + 804000) / 2 + 120400 / 2 kB
    assert.deepEqual(parseMeminfo(fixture('meminfo-3.2.txt')), { totalBytes: 4046180 * 1024, availableBytes: 2157852 * 1024, estimated: true });
  });

  it('counts Buffers + Cached as the page cache on kernels without the file LRU lines or SReclaimable', () => {
    // 312000 + (98000 + 1100000) / 2 kB
    assert.deepEqual(parseMeminfo(fixture('meminfo-2.6.18.txt')), { totalBytes: 2075600 * 1024, availableBytes: 911000 * 1024, estimated: true });
  });

  it('names what is missing from a text that is not meminfo', () => {
    assert.throws(() => parseMeminfo(''), { message: 'no MemTotal line' });
    assert.throws(() => parseMeminfo('<html>MemTotal: lots</html>\n'), { message: 'no MemTotal line' });
    assert.throws(() => parseMeminfo('MemTotal: 1000 kB\nBuffers: 10 kB\n'), { message: 'neither MemAvailable nor MemFree' });
  });
});

describe('usedRatio', () => {
  const cases: [string, { blocks: number; bfree: number; bavail: number }, number][] = [
    ['ext4 with blocks reserved for root: they are neither used nor usable', { blocks: 1000, bfree: 300, bavail: 250 }, 700 / 950],
    ['xfs, nothing reserved', { blocks: 1000, bfree: 250, bavail: 250 }, 0.75],
    ['ext4 that root has filled into the reserve: full', { blocks: 1000, bfree: 30, bavail: 0 }, 1],
    ['an empty tmpfs', { blocks: 4096, bfree: 4096, bavail: 4096 }, 0],
    ['procfs: no blocks at all', { blocks: 0, bfree: 0, bavail: 0 }, 0],
    ['16 TiB of 4 KiB blocks', { blocks: 2 ** 32, bfree: 2 ** 30, bavail: 2 ** 30 }, 0.75],
  ];
  for (const [what, s, expected] of cases) {
    it(what, () => assert.equal(usedRatio(s), expected));
  }

  it('agrees with df -P on a real root filesystem (1024-blocks 264212084, used 26703284, available 79687628, capacity 26%)', () => {
    const r = usedRatio({ blocks: 264212084, bfree: 264212084 - 26703284, bavail: 79687628 });
    assert.equal(Math.ceil(r * 100), 26, 'df rounds the percentage up');
    assert.equal(r, 26703284 / (26703284 + 79687628));
  });
});

describe('sameFilesystems', () => {
  it('reports each device once, under the first path, listing the others', () => {
    const got = sameFilesystems([
      { path: '/', device: 65024 },
      { path: '/var/lib/etcd', device: 65024 },
      { path: '/var/lib/containerd', device: 2049 },
      { path: '/var/lib/kubelet', device: 65024 },
    ]);
    assert.deepEqual(
      got.map((g) => [g.path, g.alsoAt]),
      [
        ['/', ['/var/lib/etcd', '/var/lib/kubelet']],
        ['/var/lib/containerd', []],
      ],
    );
  });

  it('tells bigint devices apart by value', () => {
    const got = sameFilesystems([
      { path: '/a', device: 2n ** 60n },
      { path: '/b', device: 2n ** 60n + 1n },
      { path: '/c', device: 2n ** 60n },
    ]);
    assert.deepEqual(
      got.map((g) => [g.path, g.alsoAt]),
      [
        ['/a', ['/c']],
        ['/b', []],
      ],
    );
  });
});

describe('hostIo', () => {
  const rootfs = mkdtempSync(path.join(os.tmpdir(), 'vigil-rootfs-'));
  after(() => rmSync(rootfs, { recursive: true, force: true }));
  mkdirSync(path.join(rootfs, 'var/lib/etcd'), { recursive: true });

  it('reads paths under the mounted root', async () => {
    const io = hostIo(rootfs);
    assert.equal(io.exists('/var/lib/etcd'), true);
    assert.equal(io.exists('/var/lib/docker'), false);
    const [root, etcd] = await Promise.all([io.filesystem('/'), io.filesystem('/var/lib/etcd')]);
    assert.equal(etcd.device, root.device, 'a directory of the root filesystem is on its device');
    assert.ok(root.blocks > 0 && root.bfree <= root.blocks && root.bavail <= root.bfree);
    await assert.rejects(io.filesystem('/var/lib/docker'), { code: 'ENOENT' });
  });

  it("reads this machine's memory", async () => {
    const m = await hostIo('/').memory();
    assert.ok(m.totalBytes > 0 && m.availableBytes > 0 && m.availableBytes <= m.totalBytes);
  });
});
