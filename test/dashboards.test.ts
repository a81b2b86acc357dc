// The Grafana dashboards and the alert rules query only what vigil exports: every query parses with
// Prometheus' PromQL grammar and names only series a real agent's /metrics declares.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type Agent } from '../src/agent.ts';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { ProbeRegistry } from '../src/probes/registry.ts';
import { checkPromQL, seriesNames } from './support/promql.ts';
import { loadAlertRules, loadRecordingRules } from './support/rules.ts';

const root = path.resolve(import.meta.dirname, '..');
const grafanaDir = path.join(root, 'grafana');
/** Series Prometheus adds itself for every target. */
const SYNTHETIC = ['up'];
/** The series the recording rules add, which rules and dashboards share. */
const RECORDED = loadRecordingRules(path.resolve(import.meta.dirname, '../alerts/vigil.rules.yml'));
/** Stands in for $__rate_interval so the grammar sees a duration and the test can tell it apart. */
const RATE_INTERVAL = '4242s';

interface Target { expr: string; refId: string; datasource?: { uid?: string } }
interface Panel { id: number; type: string; title: string; datasource?: { type?: string; uid?: string }; targets?: Target[]; panels?: Panel[] }
interface Variable { name: string; type: string; query?: unknown; definition?: string }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } }

const dashboards = readdirSync(grafanaDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, board: JSON.parse(readFileSync(path.join(grafanaDir, f), 'utf8')) as Dashboard }));

/** Grafana expands $var / ${var} before the query reaches Prometheus; the names must be defined. */
function expand(expr: string, vars: Set<string>, where: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_m, name: string) => {
    if (name === '__rate_interval') return RATE_INTERVAL;
    assert.ok(vars.has(name), `${where}: uses $${name}, which the dashboard does not define`);
    return 'x';
  });
}

function queries(d: Dashboard): { where: string; expr: string; rangeQuery: boolean }[] {
  const vars = new Set(d.templating.list.map((v) => v.name));
  const out: { where: string; expr: string; rangeQuery: boolean }[] = [];
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  for (const p of panels) for (const t of p.targets ?? []) out.push({ where: `${d.uid} "${p.title}" ${t.refId}`, expr: expand(t.expr, vars, `${d.uid} "${p.title}"`), rangeQuery: true });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? '');
    assert.ok(m, `${d.uid} variable ${v.name}: expected label_values(<selector>, <label>), got ${v.definition}`);
    out.push({ where: `${d.uid} variable ${v.name}`, expr: m[1]!, rangeQuery: false });
  }
  return out;
}

void describe('dashboards and rules against a live agent', () => {
  let agent: Agent;
  let dir: string;
  let exposition: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-dash-'));
    // Every probe on: an agent exports a probe's own metrics only when it runs that probe.
    const everyProbe = builtinProbes.map((p) => `  ${p.name}:\n    enabled: true\n`).join('');
    // A peer too: the mesh's metrics exist only with peer discovery (the peer's port refuses on loopback).
    const peers = 'peers:\n  discovery: [static]\n  static:\n    - {node: other, pod: "127.0.0.1:1"}\n';
    const config = loadConfig({ probes: builtinProbes, file: { name: 'dash-test.yaml', text: `${peers}probes:\n${everyProbe}` }, flags: { 'web.listen-address': '127.0.0.1:0', 'storage.path': dir, 'node.name': 'dash-test' } });
    agent = await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger: silentLogger() });
    // Wait for a probe run, so histograms have samples to show their series.
    const deadline = Date.now() + 30_000;
    for (;;) {
      exposition = await (await fetch(`${agent.url}/metrics`)).text();
      if (/^vigil_probe_duration_seconds_count\{/m.test(exposition) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('the agent declares every metric, with or without samples', () => {
    // No API server here, so no lease is ever read, yet the lease age is declared: names can be read from # TYPE.
    assert.match(exposition, /^# TYPE vigil_control_plane_lease_age_seconds gauge$/m);
    assert.doesNotMatch(exposition, /^vigil_control_plane_lease_age_seconds\{/m);
    assert.match(exposition, /^# TYPE vigil_etcd_request_duration_seconds histogram$/m);
    // A histogram with samples shows exactly the series the expansion predicts.
    const names = seriesNames(exposition);
    for (const s of ['_bucket', '_sum', '_count']) {
      assert.match(exposition, new RegExp(`^vigil_probe_duration_seconds${s}\\{`, 'm'));
      assert.ok(names.has(`vigil_probe_duration_seconds${s}`));
    }
    const sampleNames = new Set([...exposition.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)].map((m) => m[1]!));
    for (const n of sampleNames) assert.ok(names.has(n), `${n} has samples but no # TYPE`);
  });

  void it('dashboards have stable unique uids and a data source variable used by every panel', () => {
    assert.deepEqual(dashboards.map((d) => d.file), ['vigil-etcd.json', 'vigil-network.json', 'vigil-overview.json', 'vigil-pod-scheduling.json']);
    for (const { file, board } of dashboards) {
      assert.equal(board.uid, file.replace(/\.json$/, ''), `${file}: uid must match the file name`);
      const ds = board.templating.list.find((v) => v.name === 'datasource');
      assert.equal(ds?.type, 'datasource', `${file}: needs a datasource variable`);
      assert.equal(ds.query, 'prometheus');
      const panels = board.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
      assert.ok(panels.length >= 6, `${file}: only ${panels.length} panels`);
      const ids = new Set<number>();
      for (const p of panels) {
        assert.ok(!ids.has(p.id), `${file}: panel id ${p.id} twice`);
        ids.add(p.id);
        assert.equal(p.datasource?.uid, '${datasource}', `${file} "${p.title}": the panel must use the datasource variable`);
        assert.ok((p.targets ?? []).length > 0, `${file} "${p.title}": no query`);
        for (const t of p.targets ?? []) assert.equal(t.datasource?.uid ?? '${datasource}', '${datasource}');
      }
    }
    assert.equal(new Set(dashboards.map((d) => d.board.uid)).size, dashboards.length);
  });

  void it('every dashboard query parses, uses $__rate_interval and names only exported or recorded series', () => {
    const exported = new Set([...seriesNames(exposition), ...SYNTHETIC, ...RECORDED.map((r) => r.record)]);
    let count = 0;
    for (const { board } of dashboards) {
      for (const q of queries(board)) {
        const r = checkPromQL(q.expr);
        assert.deepEqual(r.errors, [], `${q.where}: does not parse: ${q.expr}`);
        assert.ok(r.metrics.length > 0, `${q.where}: selects no metric`);
        for (const m of r.metrics) assert.ok(exported.has(m), `${q.where}: ${m} is not exported by vigil`);
        for (const range of r.ranges) assert.equal(range, RATE_INTERVAL, `${q.where}: range [${range}] instead of [$__rate_interval]`);
        count++;
      }
    }
    assert.ok(count >= 40, `only ${count} queries`);
  });

  void it('every rule parses and names only exported series, or series recorded before it', () => {
    const exported = new Set([...seriesNames(exposition), ...SYNTHETIC]);
    const used = new Set<string>();
    for (const rule of RECORDED) {
      const r = checkPromQL(rule.expr);
      assert.deepEqual(r.errors, [], `${rule.record}: does not parse`);
      for (const m of r.metrics) assert.ok(exported.has(m), `${rule.record}: ${m} is not exported by vigil nor recorded before`);
      exported.add(rule.record);
    }
    for (const rule of loadAlertRules(path.join(root, 'alerts/vigil.rules.yml'))) {
      const r = checkPromQL(rule.expr);
      assert.deepEqual(r.errors, [], `${rule.alert}: does not parse`);
      for (const m of r.metrics) {
        assert.ok(exported.has(m), `${rule.alert}: ${m} is not exported by vigil`);
        used.add(m);
      }
    }
    assert.ok(used.size >= 15);
  });

  void it('every dashboard filters by cluster, the etcd one by node too, and the network views stay short at 1,000 nodes', () => {
    for (const { file, board } of dashboards) {
      assert.ok(board.templating.list.some((v) => v.name === 'cluster'), `${file}: a cluster variable`);
      for (const q of board.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })))) {
        for (const sel of q.expr.matchAll(/\{([^}]*)\}/g)) assert.match(sel[1]!, /cluster=~"\$cluster"/, `${file} "${q.title}": ${q.expr}`);
        if (file === 'vigil-etcd.json' && /vigil_etcd_\w+\{job=/.test(q.expr)) assert.match(q.expr, /node=~"\$node"/, `${file} "${q.title}": filters by the observer node`);
      }
    }
    const network = dashboards.find((d) => d.file === 'vigil-network.json')!.board;
    for (const p of network.panels.filter((x) => x.type === 'table' || x.type === 'state-timeline')) {
      // A row per observer-peer pair (N·k rows) or an N×N matrix does not scale: only broken links or per-node shares.
      for (const t of p.targets ?? []) assert.match(t.expr, /< 1\)$|> 0\)$/, `${p.title}: shows only what is broken`);
    }
  });

  void it('every probe a rule or panel selects is a probe vigil has', () => {
    const known = new Set(builtinProbes.map((p) => p.name));
    const exprs = [
      ...loadAlertRules(path.join(root, 'alerts/vigil.rules.yml')).map((r) => ({ where: r.alert, expr: r.expr })),
      ...dashboards.flatMap(({ board }) => queries(board)),
    ];
    let seen = 0;
    for (const { where, expr } of exprs) {
      for (const m of expr.matchAll(/\bprobe\s*=~?\s*"([^"]*)"/g)) {
        for (const name of m[1]!.split('|')) {
          assert.ok(known.has(name), `${where}: selects probe "${name}"; vigil's probes are ${[...known].join(', ')}`);
          seen++;
        }
      }
    }
    assert.ok(seen >= 5);
  });

  void it('the checker itself rejects what it should', () => {
    assert.notDeepEqual(checkPromQL('sum(rate(x[5m])').errors, []);
    assert.deepEqual(checkPromQL('histogram_quantile(0.9, sum by (le) (rate(a_bucket{b="c"}[5m]))) / on (d) e').metrics, ['a_bucket', 'e']);
  });
});
