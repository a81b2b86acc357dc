import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type Agent } from '../src/agent.ts';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { ProbeRegistry } from '../src/probes/registry.ts';
import { version } from '../src/version.ts';
import { eventually } from './support/agent-process.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-metrics-'));
let agent: Agent;

before(async () => {
  // Thresholds no machine reaches: the node probe's verdict must not depend on how full the runner's disk or memory is.
  const thresholds = '{warning: 0.9999, critical: 1}';
  const file = { name: 'metrics-test.yaml', text: `probes:\n  node:\n    filesystem: ${thresholds}\n    memory: ${thresholds}\n` };
  const config = loadConfig({ probes: builtinProbes, file, flags: { 'web.listen-address': '127.0.0.1:0', 'storage.path': dir, 'node.name': 'node-a' } });
  agent = await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger: silentLogger() });
  await eventually(() => (agent.status.snapshot().verdict !== 'unknown' ? true : undefined), 20_000, 'first probe run');
});
after(async () => {
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/metrics', () => {
  it('passes promtool check metrics', async () => {
    const res = await fetch(`${agent.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool must be installed (Debian package prometheus)');
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reports no problems');
    assert.equal(r.status, 0);
  });

  it('exports the build info, the common probe metrics and the node probe figures', async () => {
    const body = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(body, new RegExp(`^vigil_build_info\\{version="${version.replace(/\./g, '\\.')}",revision="[^"]+",nodejs_version="${process.version}"\\} 1$`, 'm'));
    assert.match(body, /^vigil_probe_success\{probe="node"\} 1$/m);
    assert.match(body, /^vigil_probe_runs_total\{probe="node"\} [1-9]\d*$/m);
    assert.match(body, /^vigil_probe_failures_total\{probe="node",reason="timeout"\} 0$/m);
    assert.match(body, /^vigil_probe_duration_seconds_bucket\{le="\+Inf",probe="node"\} [1-9]/m);
    const used = /^vigil_node_filesystem_used_ratio\{path="\/"\} ([\d.e-]+)$/m.exec(body);
    assert.ok(used, 'root filesystem ratio exported');
    // Any fullness of the runner's disk and memory is a valid reading: a ratio, whatever its value.
    assert.ok(Number(used[1]) >= 0 && Number(used[1]) <= 1);
    const mem = /^vigil_node_memory_available_ratio ([\d.e-]+)$/m.exec(body);
    assert.ok(mem && Number(mem[1]) >= 0 && Number(mem[1]) <= 1);
    assert.match(body, /^process_resident_memory_bytes \d+/m, 'default process metrics');
    assert.doesNotMatch(body, /vigil_etcd_|vigil_pod_|vigil_dns_/, 'no metrics of probes this agent does not run (an idle gauge would read 0)');
  });

  it('answers health, readiness, the local status and a JSON 404', async () => {
    assert.equal(await (await fetch(`${agent.url}/healthz`)).text(), 'ok\n');
    assert.equal((await fetch(`${agent.url}/readyz`)).status, 200);
    const status = (await (await fetch(`${agent.url}/api/v1/status/local`)).json()) as { node: string; verdict: string; probes: { name: string; since: string }[] };
    assert.equal(status.node, 'node-a');
    assert.equal(status.probes[0]!.name, 'node');
    assert.ok(Date.parse(status.probes[0]!.since) > 0);
    const missing = await fetch(`${agent.url}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'no such endpoint: GET /nope' });
    const bad = await fetch(`${agent.url}/api/v1/history/local?limit=-1`);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'limit: expected a whole number from 1 to 1000, got "-1"' });
  });
});
