import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry, type Gauge } from 'prom-client';
import { loadConfig } from '../config/load.ts';
import { silentLogger } from '../log.ts';
import { systemClock } from '../clock.ts';
import { nodeProbe } from './node.ts';
import { createProbe, ProbeRegistry } from './registry.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-node-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function probe(yaml: string) {
  const config = loadConfig({ probes: [nodeProbe], file: { name: 'test.yaml', text: yaml } });
  const registry = new Registry();
  const [enabled] = new ProbeRegistry([nodeProbe]).enabled(config);
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
});
