import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { systemClock } from '../clock.ts';
import { loadConfig } from '../config/load.ts';
import { silentLogger } from '../log.ts';
import { builtinProbes } from '../probes/index.ts';
import { createProbe, ProbeRegistry } from '../probes/registry.ts';
import { readFileSync } from 'node:fs';
import { createMetrics, kubernetesWriteMetrics, peerMeshMetrics, peerTlsMetrics, webConfigMetrics } from './metrics.ts';

/** The registry of an agent that runs the probes enabled in the YAML. */
function agentRegistry(yaml: string): Registry {
  const config = loadConfig({ probes: builtinProbes, file: { name: 'test.yaml', text: yaml } });
  const registry = new Registry();
  createMetrics(registry, { defaultMetrics: false });
  const kubernetes = () => Promise.reject(new Error('not used'));
  for (const e of new ProbeRegistry(builtinProbes).enabled(config)) createProbe(e, { node: config.node, clock: systemClock, logger: silentLogger(), registry }, { kubernetes });
  return registry;
}

const vigilNames = async (r: Registry) => new Set((await r.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('vigil_')));

describe('probe metrics', () => {
  it('say nothing of what no run has measured yet: no "no etcd leader" or "no memory available" from an agent that has not looked', async () => {
    const registry = agentRegistry('probes:\n  node:\n    enabled: true\n  etcd:\n    enabled: true\n    endpoints: [127.0.0.1:2379]\n');
    const text = await registry.metrics();
    assert.match(text, /^# TYPE vigil_etcd_has_leader gauge$/m, 'declared');
    assert.doesNotMatch(text, /^vigil_etcd_has_leader /m);
    assert.match(text, /^# TYPE vigil_node_memory_available_ratio gauge$/m, 'declared');
    assert.doesNotMatch(text, /^vigil_node_memory_available_ratio /m);
  });

  it('exist only for the probes the agent runs', async () => {
    const nodeOnly = await vigilNames(agentRegistry('probes:\n  node:\n    enabled: true\n'));
    assert.ok(nodeOnly.has('vigil_node_memory_available_ratio'));
    assert.ok(nodeOnly.has('vigil_probe_runs_total'));
    for (const n of nodeOnly) assert.doesNotMatch(n, /^vigil_(etcd|pod|apiserver|control_plane|dns|peers?)_/, `${n} exported without its probe`);

    const none = await vigilNames(agentRegistry('probes:\n  node:\n    enabled: false\n'));
    assert.ok(!none.has('vigil_node_memory_available_ratio'));
  });

  it('are made by each probe, every probe with a prefix of its own', async () => {
    const all = 'probes:\n' + builtinProbes.map((p) => `  ${p.name}:\n    enabled: true\n`).join('');
    const names = await vigilNames(agentRegistry(all));
    const common = await vigilNames(agentRegistry('probes:\n  node:\n    enabled: false\n'));
    const own = [...names].filter((n) => !common.has(n));
    for (const [probe, prefix] of [
      ['node', 'vigil_node_'],
      ['etcd', 'vigil_etcd_'],
      ['pod-scheduling', 'vigil_pod_'],
      ['apiserver', 'vigil_apiserver_'],
      ['control-plane', 'vigil_control_plane_'],
      ['dns', 'vigil_dns_'],
    ]) {
      assert.ok(
        own.some((n) => n.startsWith(prefix!)),
        `the ${probe} probe makes its metrics`,
      );
    }
    assert.deepEqual(
      own.filter((n) => !/^vigil_(node|etcd|pod|apiserver|control_plane|dns)_/.test(n)),
      [],
    );
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

void describe('docs/metrics.md', () => {
  void it('lists every metric an agent can export, each once, and none it does not', async () => {
    const all = 'probes:\n' + builtinProbes.map((p) => `  ${p.name}:\n    enabled: true\n`).join('');
    const registry = agentRegistry(all);
    peerMeshMetrics(registry);
    kubernetesWriteMetrics(registry);
    webConfigMetrics(registry, { tls: true });
    peerTlsMetrics(registry);
    const live = [...(await vigilNames(registry))].sort();
    const rows = [...readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8').matchAll(/^\| (vigil_\w+) \|/gm)].map((m) => m[1]!);
    assert.deepEqual(
      rows.filter((n, i) => rows.indexOf(n) !== i),
      [],
      'listed twice',
    );
    assert.deepEqual([...new Set(rows)].sort(), live);
  });
});
