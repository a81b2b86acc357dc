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
import { promtoolEval, steppedCounter } from './support/promtool-eval.ts';
import { loadAlertRules, loadRecordingRules } from './support/rules.ts';

const root = path.resolve(import.meta.dirname, '..');
const grafanaDir = path.join(root, 'grafana');
/** Series Prometheus adds itself for every target. */
const SYNTHETIC = ['up'];
/** The series the recording rules add, which rules and dashboards share. */
const RECORDED = loadRecordingRules(path.resolve(import.meta.dirname, '../alerts/vigil.rules.yml'));
/** Stands in for $__rate_interval so the grammar sees a duration and the test can tell it apart. */
const RATE_INTERVAL = '4242s';
/** The pod-scheduling probe's latency histograms: one observation per node every 5 minutes. */
const POD_PROBE_HISTOGRAM = /^vigil_pod_\w+_duration_seconds_bucket$/;

function seconds(duration: string): number {
  const m = /^(\d+)([smhd])$/.exec(duration);
  assert.ok(m, `duration ${duration}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

interface Target {
  expr: string;
  refId: string;
  legendFormat?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

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
    assert.deepEqual(
      dashboards.map((d) => d.file),
      ['vigil-etcd.json', 'vigil-network.json', 'vigil-overview.json', 'vigil-pod-scheduling.json'],
    );
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
        // The pod probe runs every 5 minutes: its histograms need a window that always holds a run.
        if (r.metrics.some((m) => POD_PROBE_HISTOGRAM.test(m))) {
          for (const range of r.ranges) assert.ok(seconds(range) >= 600, `${q.where}: range [${range}] of a pod-probe histogram; at least [10m]`);
        } else {
          for (const range of r.ranges) assert.equal(range, RATE_INTERVAL, `${q.where}: range [${range}] instead of [$__rate_interval]`);
        }
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
      assert.ok(
        board.templating.list.some((v) => v.name === 'cluster'),
        `${file}: a cluster variable`,
      );
      for (const q of board.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })))) {
        for (const sel of q.expr.matchAll(/\{([^}]*)\}/g)) assert.match(sel[1]!, /cluster=~"\$cluster"/, `${file} "${q.title}": ${q.expr}`);
        if (file === 'vigil-etcd.json' && /vigil_etcd_\w+\{job=/.test(q.expr)) assert.match(q.expr, /node=~"\$node"/, `${file} "${q.title}": filters by the observer node`);
      }
    }
    const network = dashboards.find((d) => d.file === 'vigil-network.json')!.board;
    for (const p of network.panels.filter((x) => x.type === 'table' || x.type === 'state-timeline')) {
      // A row per observer-peer pair (N·k rows) or an N×N matrix does not scale: only broken links or per-node shares.
      for (const t of p.targets ?? []) assert.match(t.expr, /(< 1|> 0)\)+$/, `${p.title}: shows only what is broken`);
    }
  });

  void it('every probe a rule or panel selects is a probe vigil has', () => {
    const known = new Set(builtinProbes.map((p) => p.name));
    const exprs = [...loadAlertRules(path.join(root, 'alerts/vigil.rules.yml')).map((r) => ({ where: r.alert, expr: r.expr })), ...dashboards.flatMap(({ board }) => queries(board))];
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

  void it("every runbook's blast-radius PromQL parses and names only exported or recorded series", () => {
    const exported = new Set([...seriesNames(exposition), ...SYNTHETIC, ...RECORDED.map((r) => r.record)]);
    const dir = path.join(root, 'docs/runbooks');
    let count = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
        for (const line of block[1]!.split('\n')) {
          const expr = line.replace(/\s+#.*$/, '').trim();
          if (!expr || expr.startsWith('#')) continue;
          const r = checkPromQL(expr);
          assert.deepEqual(r.errors, [], `${file}: does not parse: ${expr}`);
          for (const m of r.metrics) assert.ok(exported.has(m), `${file}: ${m} is neither exported by vigil nor recorded by alerts/vigil.rules.yml`);
          count++;
        }
      }
    }
    assert.ok(count >= 30, `only ${count} runbook queries`);
  });

  void it('the checker itself rejects what it should', () => {
    assert.notDeepEqual(checkPromQL('sum(rate(x[5m])').errors, []);
    assert.deepEqual(checkPromQL('histogram_quantile(0.9, sum by (le) (rate(a_bucket{b="c"}[5m]))) / on (d) e').metrics, ['a_bucket', 'e']);
  });
});

/** The panels of a dashboard, rows' children included, rows left out. */
function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}

/** A query as Grafana would send it for one cluster, every node, the pod network and a 2-minute rate interval. */
function concrete(expr: string): string {
  const values: Record<string, string> = { cluster: 'c1', node: '.*', network: 'pod', __rate_interval: '2m' };
  return expr.replace(/\$\{?(\w+)\}?/g, (_m, name: string) => values[name] ?? assert.fail(`no value for $${name}`));
}

const RULES_FILE = path.join(root, 'alerts/vigil.rules.yml');

void describe('dashboards at scale and across clusters', () => {
  void it('show one cluster at a time: the cluster variable is single-select, without All', () => {
    for (const { file, board } of dashboards) {
      const v = board.templating.list.find((x) => x.name === 'cluster')!;
      assert.equal(v.type, 'query', file);
      // "All" (or several at once) merges members and nodes of the same name from different clusters.
      assert.equal(v.multi, false, `${file}: the cluster variable must not be multi-select`);
      assert.equal(v.includeAll, false, `${file}: the cluster variable must not offer All`);
      assert.equal(v.allValue, undefined, `${file}: no All value`);
    }
  });

  void it('per-node graphs show the worst few nodes, not every node', () => {
    let perNode = 0;
    for (const { file, board } of dashboards) {
      for (const p of panelsOf(board)) {
        for (const t of p.targets ?? []) {
          // A series per node: the legend names it, or a table's rows keep the node label.
          const byNode = /\{\{\s*(node|peer_node)\s*\}\}/.test(t.legendFormat ?? '') || (p.type === 'table' && (/^\w+ by \([^)]*\b(node|peer_node)\b/.test(t.expr) || /\b(cluster_node|node_peer|node_probe|node_member):/.test(t.expr)));
          if (!byNode) continue;
          perNode++;
          const where = `${file} "${p.title}" ${t.refId}`;
          if (p.type === 'table') {
            // A table lists only what is broken, or a bounded top.
            assert.match(t.expr, /\b(topk|bottomk)\s*\(|(< 1|> 0)\)*$/, `${where}: a per-node table must list only what is broken or the worst few`);
            continue;
          }
          const m = /\b(topk|bottomk)\s*\(\s*(\d+)\s*,/.exec(t.expr);
          assert.ok(m, `${where}: one series per node is unreadable at 1,000 nodes; show topk/bottomk: ${t.expr}`);
          assert.ok(Number(m[2]) <= 20, `${where}: ${m[1]}(${m[2]}) is more than a graph can show`);
        }
      }
    }
    assert.ok(perNode >= 12, `only ${perNode} per-node queries found: the detection is broken`);
  });

  void it('use only the recording rules the rules file records', () => {
    const recorded = new Set(RECORDED.map((r) => r.record));
    let seen = 0;
    for (const { file, board } of dashboards) {
      for (const p of panelsOf(board)) {
        for (const t of p.targets ?? []) {
          for (const m of checkPromQL(expand(t.expr, new Set(board.templating.list.map((v) => v.name)), file)).metrics) {
            if (!m.includes(':')) continue;
            assert.ok(recorded.has(m), `${file} "${p.title}": ${m} is not recorded by alerts/vigil.rules.yml`);
            seen++;
          }
        }
      }
    }
    assert.ok(seen >= 10);
    const sched = dashboards.find((d) => d.file === 'vigil-pod-scheduling.json')!.board;
    assert.ok(
      panelsOf(sched).some((p) => (p.targets ?? []).some((t) => t.expr.includes('cluster_probe:vigil_agents:count2m{'))),
      'the agents-running-the-probe count beside the failing count',
    );
  });

  // The pod probe runs every 5 minutes per node: a rate window shorter than that holds no run at
  // most steps, and histogram_quantile over empty buckets is NaN, which Grafana draws as nothing.
  const podLatency = dashboards.flatMap(({ file, board }) =>
    panelsOf(board).flatMap((p) => (p.targets ?? []).filter((t) => checkPromQL(concrete(t.expr)).metrics.some((m) => POD_PROBE_HISTOGRAM.test(m))).map((t) => ({ where: `${file} "${p.title}" ${t.refId}`, expr: concrete(t.expr) }))),
  );

  /** Two nodes whose probe pods run every 5 minutes, out of phase, each observed at 0.8 s; an hour of samples. */
  function podRuns(metric: string) {
    const input = [];
    for (const [node, phase] of [
      ['a', 0],
      ['b', 5],
    ] as const) {
      for (const le of ['0.5', '1', '+Inf']) {
        input.push({ series: `${metric}{job="vigil", cluster="c1", node="${node}", le="${le}"}`, values: le === '0.5' ? '0x120' : steppedCounter(121, 10, phase) });
      }
    }
    return input;
  }
  /** Every minute from 16 to 60: both nodes must have a value (not NaN) at every one of these steps. */
  function alwaysShown(expr: string, metric: string) {
    const checks = Array.from({ length: 45 }, (_, i) => ({ expr: `count((${expr}) >= 0) or vector(0)`, at: `${16 + i}m`, samples: [{ labels: '{}', value: 2 }] }));
    return promtoolEval({ ruleFiles: [RULES_FILE], input: podRuns(metric), checks });
  }

  void it('pod-probe latency panels have a value at every step, not only in the minutes after a run', () => {
    assert.ok(podLatency.length >= 4, `only ${podLatency.length} pod-probe latency queries`);
    for (const q of podLatency) {
      const metric = checkPromQL(q.expr).metrics.find((m) => POD_PROBE_HISTOGRAM.test(m))!;
      const r = alwaysShown(q.expr, metric);
      assert.ok(r.ok, `${q.where}: empty at some steps:\n${r.output}`);
    }
    // The check tells the difference: the same panel over $__rate_interval (2 minutes here) is empty at most steps.
    const old = podLatency[0]!.expr.replace(/\[\w+\]/g, '[2m]');
    assert.equal(alwaysShown(old, checkPromQL(old).metrics[0]!).ok, false, 'a 2-minute window should have come out empty');
  });

  /** Links in cluster c1 (a, b, c) and a same-named pair in c2: only a↔b's pod network is broken in c1. */
  const LINKS: { cluster: string; from: string; to: string; pod: number; host: number }[] = [
    { cluster: 'c1', from: 'a', to: 'b', pod: 0, host: 1 },
    { cluster: 'c1', from: 'b', to: 'a', pod: 0, host: 1 },
    { cluster: 'c1', from: 'a', to: 'c', pod: 1, host: 1 },
    { cluster: 'c1', from: 'c', to: 'a', pod: 1, host: 1 },
    { cluster: 'c1', from: 'b', to: 'c', pod: 1, host: 1 },
    { cluster: 'c1', from: 'c', to: 'b', pod: 1, host: 1 },
    { cluster: 'c2', from: 'a', to: 'c', pod: 0, host: 0 },
  ];
  function brokenLinksShown(exprs: string[]) {
    const input = LINKS.flatMap((l) =>
      (['pod', 'host'] as const).map((network) => ({
        series: `vigil_peer_up{job="vigil", cluster="${l.cluster}", node="${l.from}", peer_node="${l.to}", network="${network}"}`,
        values: `${l[network]}x20`,
      })),
    );
    const pairs = [
      { labels: '{node="a", peer_node="b"}', value: 1 },
      { labels: '{node="b", peer_node="a"}', value: 1 },
    ];
    // Each query of the table lists exactly the broken links, both directions, and nothing of the other cluster.
    const checks = exprs.map((e) => ({ expr: `count by (node, peer_node) (${e})`, at: '5m', samples: pairs }));
    return promtoolEval({ ruleFiles: [RULES_FILE], input, checks });
  }

  void it('the broken-links table shows a link broken on the pod network only, its host network up', () => {
    const network = dashboards.find((d) => d.file === 'vigil-network.json')!.board;
    const table = panelsOf(network).find((p) => p.type === 'table' && /broken links/i.test(p.title));
    assert.ok(table, 'a broken-links table');
    const exprs = (table.targets ?? []).map((t) => concrete(t.expr));
    const r = brokenLinksShown(exprs);
    assert.ok(r.ok, `the table misses the pod-only break or shows healthy links:\n${r.output}`);
    // It shows which network is broken: a column for each.
    for (const rule of ['node_peer:vigil_peer_up_pod:avg2m', 'node_peer:vigil_peer_up_host:avg2m']) {
      assert.ok(
        exprs.some((e) => new RegExp(`^${rule}\\{`).test(e)),
        `a column from ${rule}`,
      );
    }
    // The check tells the difference: the best-network view (max over pod and host) hides the break.
    assert.equal(brokenLinksShown(['sort(node_peer:vigil_peer_up:max_avg2m{cluster=~"c1"} < 1)']).ok, false);
  });
});
