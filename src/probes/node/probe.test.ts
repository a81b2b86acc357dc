import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry, type Gauge } from 'prom-client';
import { loadConfig } from '../../config/load.ts';
import { silentLogger } from '../../log.ts';
import { systemClock } from '../../clock.ts';
import { nodeProbe, nodeProbeOn } from './probe.ts';
import type { FilesystemReading, Memory, NodeIo } from './readings.ts';
import type { ProbeDefinition } from '../probe.ts';
import { createProbe, ProbeRegistry } from '../registry.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-node-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function probe(yaml: string, definition: ProbeDefinition = nodeProbe) {
  const config = loadConfig({ probes: [definition], file: { name: 'test.yaml', text: yaml } });
  const registry = new Registry();
  const [enabled] = new ProbeRegistry([definition]).enabled(config);
  const probe = createProbe(enabled!, { node: config.node, clock: systemClock, logger: silentLogger(), registry }, {});
  const gauge = (name: string) => registry.getSingleMetric(name) as Gauge;
  return { probe, metrics: { nodeFilesystemUsedRatio: gauge('vigil_node_filesystem_used_ratio'), nodeMemoryAvailableRatio: gauge('vigil_node_memory_available_ratio') } };
}

describe('node probe', () => {
  it('is ok within thresholds and exports the ratios', async () => {
    const { probe: p, metrics } = probe(`probes:\n  node:\n    paths: [${dir}]\n    filesystem: {warning: 0.999, critical: 1}\n    memory: {warning: 0.999, critical: 1}\n`);
    const r = await p.run(AbortSignal.timeout(5000));
    assert.equal(r.verdict, 'ok', r.message);
    const fs = (await metrics.nodeFilesystemUsedRatio.get()).values[0]!;
    assert.equal(fs.labels.path, dir);
    assert.ok(fs.value > 0 && fs.value < 1);
    const mem = (await metrics.nodeMemoryAvailableRatio.get()).values[0]!.value;
    assert.ok(mem > 0 && mem <= 1);
  });

  it('names the path and the figure when a filesystem crosses critical', async () => {
    const { probe: p } = probe(`probes:\n  node:\n    paths: [${dir}]\n    filesystem: {warning: 0.00001, critical: 0.00002}\n    memory: {warning: 0.999, critical: 1}\n`);
    const r = await p.run(AbortSignal.timeout(5000));
    assert.equal(r.verdict, 'critical');
    assert.equal(r.reason, 'filesystem-full');
    assert.match(r.message, new RegExp(`^filesystem at ${dir} is \\d+\\.\\d% used \\(critical at 0\\.0%\\)$`));
  });

  it('warns about a path it cannot read, and drops its series', async () => {
    const gone = path.join(dir, 'gone');
    const { probe: p, metrics } = probe(`probes:\n  node:\n    paths: [${gone}]\n    memory: {warning: 0.999, critical: 1}\n`);
    const r = await p.run(AbortSignal.timeout(5000));
    assert.equal(r.verdict, 'warning');
    assert.equal(r.reason, 'filesystem-unreadable');
    assert.equal(r.message, `cannot read the filesystem at ${gone}: ENOENT`);
    assert.equal((await metrics.nodeFilesystemUsedRatio.get()).values.length, 0);
  });

  it('reports memory pressure against the used thresholds', async () => {
    const { probe: p } = probe(`probes:\n  node:\n    paths: [${dir}]\n    filesystem: {warning: 0.999, critical: 1}\n    memory: {warning: 0, critical: 0.000001}\n`);
    const r = await p.run(AbortSignal.timeout(5000));
    assert.equal(r.verdict, 'critical');
    assert.equal(r.reason, 'memory-low');
    assert.match(r.message, /^memory is \d+\.\d% used, \d+ MiB available$/);
  });

  it('reads paths under rootfs, reports them without it, and a filesystem holding several paths once', async () => {
    const rootfs = path.join(dir, 'host');
    mkdirSync(path.join(rootfs, 'var/lib/etcd'), { recursive: true });
    mkdirSync(path.join(rootfs, 'var/lib/kubelet'), { recursive: true });
    const yaml = (fs: string) => `probes:\n  node:\n    rootfs: ${rootfs}\n    filesystem: ${fs}\n    memory: {warning: 0.999, critical: 1}\n`;
    // Default paths: / and the data directories that exist under rootfs, here all on one filesystem.
    const ok = probe(yaml('{warning: 0.999, critical: 1}'));
    const r = await ok.probe.run(AbortSignal.timeout(5000));
    assert.equal(r.message, '1 filesystem(s) and memory within thresholds');
    assert.deepEqual(
      (await ok.metrics.nodeFilesystemUsedRatio.get()).values.map((v) => v.labels),
      [{ path: '/' }],
    );
    assert.deepEqual(Object.keys(r.observations!), ['filesystem / used', 'memory available']);

    const full = probe(yaml('{warning: 0.00001, critical: 0.00002}'));
    const c = await full.probe.run(AbortSignal.timeout(5000));
    assert.match(c.message, /^filesystem at \/ \(also holding \/var\/lib\/etcd, \/var\/lib\/kubelet\) is \d+\.\d% used \(critical at 0\.0%\)$/);
  });
});

describe('node probe on given readings', () => {
  const GiB = 2 ** 30;
  /** A machine whose filesystems and memory the test sets; a missing path is ENOENT. */
  function machine() {
    const state = {
      filesystems: new Map<string, FilesystemReading>(),
      memory: { totalBytes: 8 * GiB, availableBytes: 6 * GiB, estimated: false } as Memory | Error,
    };
    const io: NodeIo = {
      exists: (p) => state.filesystems.has(p),
      filesystem: (p) => {
        const fs = state.filesystems.get(p);
        return fs ? Promise.resolve(fs) : Promise.reject(Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }));
      },
      memory: () => (state.memory instanceof Error ? Promise.reject(state.memory) : Promise.resolve(state.memory)),
    };
    return { state, definition: nodeProbeOn(() => io) };
  }
  const yaml = 'probes:\n  node:\n    paths: [/, /var/lib/etcd, /var/lib/containerd]\n';
  const series = async (g: Gauge) => Object.fromEntries((await g.get()).values.map((v) => [v.labels.path ?? '', v.value]));

  it('reports each filesystem once and follows a path moving onto another filesystem', async () => {
    const m = machine();
    m.state.filesystems.set('/', { device: 1, blocks: 100, bfree: 50, bavail: 50 });
    m.state.filesystems.set('/var/lib/etcd', { device: 2, blocks: 100, bfree: 5, bavail: 5 });
    m.state.filesystems.set('/var/lib/containerd', { device: 1, blocks: 100, bfree: 50, bavail: 50 });
    const { probe: p, metrics } = probe(yaml, m.definition);
    const r = await p.run(AbortSignal.timeout(5000));
    assert.equal(r.verdict, 'critical');
    assert.equal(r.message, 'filesystem at /var/lib/etcd is 95.0% used (critical at 90.0%)');
    assert.deepEqual(await series(metrics.nodeFilesystemUsedRatio), { '/': 0.5, '/var/lib/etcd': 0.95 });

    // etcd's own disk unmounted: its directory is now on the root filesystem.
    m.state.filesystems.set('/var/lib/etcd', { device: 1, blocks: 100, bfree: 50, bavail: 50 });
    const again = await p.run(AbortSignal.timeout(5000));
    assert.equal(again.message, '1 filesystem(s) and memory within thresholds');
    assert.deepEqual(await series(metrics.nodeFilesystemUsedRatio), { '/': 0.5 });
  });

  it('says when the memory figure is estimated, and warns without a figure when memory cannot be read', async () => {
    const m = machine();
    m.state.filesystems.set('/', { device: 1, blocks: 100, bfree: 50, bavail: 50 });
    m.state.memory = { totalBytes: 8 * GiB, availableBytes: 0.5 * GiB, estimated: true };
    const { probe: p, metrics } = probe('probes:\n  node:\n    paths: [/]\n', m.definition);
    const low = await p.run(AbortSignal.timeout(5000));
    assert.deepEqual([low.verdict, low.reason, low.message], ['critical', 'memory-low', 'memory is 93.8% used, 512 MiB available (estimated: the kernel reports no MemAvailable)']);
    assert.equal((await metrics.nodeMemoryAvailableRatio.get()).values[0]!.value, 0.0625);

    m.state.memory = new Error('/proc/meminfo: no MemTotal line');
    const unreadable = await p.run(AbortSignal.timeout(5000));
    assert.deepEqual([unreadable.verdict, unreadable.reason, unreadable.message], ['warning', 'memory-unreadable', 'cannot read the memory figures: /proc/meminfo: no MemTotal line']);
    assert.deepEqual((await metrics.nodeMemoryAvailableRatio.get()).values, [], 'no stale figure, and no 0 that would read as no memory left');
  });

  it('exports no memory figure before the first run', async () => {
    const { metrics } = probe('probes:\n  node:\n    paths: [/]\n', machine().definition);
    assert.deepEqual((await metrics.nodeMemoryAvailableRatio.get()).values, []);
  });
});
