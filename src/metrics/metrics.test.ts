import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { builtinProbes } from '../probes/index.ts';
import { PROBE_METRICS, createMetrics, dropMetricsOfIdleProbes } from './metrics.ts';

describe('probe metrics', () => {
  it('names only defined metrics, under the names of real probes', () => {
    const registry = new Registry();
    createMetrics(registry, { defaultMetrics: false });
    const probes = new Set(builtinProbes.map((p) => p.name));
    for (const [probe, names] of Object.entries(PROBE_METRICS)) {
      assert.ok(probes.has(probe), `${probe} is a probe`);
      for (const name of names) assert.ok(registry.getSingleMetric(name), `${name} is defined`);
    }
  });

  it('drops the metrics of probes the agent does not run, and keeps the rest', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    dropMetricsOfIdleProbes(registry, new Set(['node']));
    const text = await registry.metrics();
    assert.doesNotMatch(text, /vigil_etcd_has_leader/);
    assert.match(text, /^vigil_node_memory_available_ratio 0$/m);
    assert.match(text, /^# TYPE vigil_probe_runs_total counter$/m);
    assert.match(text, /^# TYPE vigil_peers_known gauge$/m, 'the peer mesh is not a probe');
    metrics.etcdHasLeader.set(1); // a stray write to a dropped metric harms nothing
    assert.doesNotMatch(await registry.metrics(), /vigil_etcd_has_leader/);
  });

  it('exports no label that a scrape sets on its target', () => {
    // A ServiceMonitor scrape sets these with honor_labels: false; an exported one arrives as exported_<name>.
    const reserved = new Set(['job', 'instance', 'namespace', 'service', 'pod', 'container', 'endpoint', 'node', 'cluster']);
    const registry = new Registry();
    createMetrics(registry, { defaultMetrics: false });
    for (const m of registry.getMetricsAsArray()) {
      const labels = (m as unknown as { labelNames: string[] }).labelNames;
      for (const l of labels) assert.ok(!reserved.has(l), `${m.name} exports the reserved label ${l}`);
    }
  });
});
