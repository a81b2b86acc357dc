// The alert rules: promtool accepts and unit-tests them, they follow the conventions, every alert
// has a runbook and a test that shows it firing and staying silent, and the PrometheusRule is current.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_RUNBOOK_BASE_URL, PROMETHEUS_RULE_FILE, RULES_FILE, existingMetadata, renderPrometheusRule, renderedRunbookBase } from '../scripts/prometheusrule.ts';
import { loadAlertRules } from './support/rules.ts';

const root = path.resolve(import.meta.dirname, '..');
const testDir = path.join(root, 'alerts/tests');
const testFiles = readdirSync(testDir)
  .filter((f) => f.endsWith('.yml'))
  .sort()
  .map((f) => path.join('alerts/tests', f));

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`, { cause: r.error });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

interface UnitTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

void describe('alert rules', () => {
  const rules = loadAlertRules(path.join(root, RULES_FILE));

  void it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', RULES_FILE);
    assert.equal(r.code, 0, r.output);
    const all = (parse(readFileSync(path.join(root, RULES_FILE), 'utf8')) as { groups: { rules: unknown[] }[] }).groups.flatMap((g) => g.rules);
    assert.match(r.output, new RegExp(`SUCCESS: ${all.length} rules found`));
  });

  void it('pass their promtool unit tests', () => {
    assert.ok(testFiles.length > 0);
    const r = promtool('test', 'rules', ...testFiles);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /FAILED/);
  });

  void it('follow the naming, for, severity and annotation conventions', () => {
    assert.ok(rules.length >= 20, `only ${rules.length} alerts`);
    const seen = new Map<string, string[]>();
    for (const r of rules) {
      assert.match(r.alert, /^Vigil[A-Z][A-Za-z]+$/, `${r.alert}: CamelCase name prefixed Vigil`);
      const severity = r.labels?.severity ?? '';
      assert.ok(['critical', 'warning', 'info'].includes(severity), `${r.alert}: severity ${severity}`);
      // One name may carry two severities (warning and critical), never the same one twice.
      const severities = seen.get(r.alert) ?? [];
      assert.ok(!severities.includes(severity), `${r.alert}: defined twice with severity ${severity}`);
      seen.set(r.alert, [...severities, severity]);
      assert.match(r.for ?? '', /^\d+[smh]$/, `${r.alert}: needs a for (0s where the long window is the persistence)`);
      const a = r.annotations ?? {};
      assert.ok(a.summary && !a.summary.includes('{{'), `${r.alert}: the summary must be static`);
      // absent() has no labels and a constant value: nothing to name.
      if (r.alert !== 'VigilAgentAbsent') assert.match(a.description ?? '', /\{\{ \$(labels\.\w+|value)[ |]/, `${r.alert}: the description must be templated with what is affected or the value`);
      assert.equal(a.runbook_url, `${DEFAULT_RUNBOOK_BASE_URL}${r.alert}.md`, `${r.alert}: an absolute runbook URL from the one base`);
    }
  });

  void it('follow the severity policy written in the README, rule by rule', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = /- \*\*Severity policy\.\*\*[^\n]*\n\n((?: {2}\|.*\n)+)/.exec(readme)?.[1];
    assert.ok(table, 'the README has the severity policy table');
    const policy = new Map<string, Set<string>>();
    for (const row of table.split('\n').slice(2).filter(Boolean)) {
      const [severity, receiver, , alerts] = row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      assert.equal(receiver, { critical: 'pager', warning: 'team', info: 'tickets' }[severity!], `${severity} goes to its receiver`);
      policy.set(severity!, new Set([...alerts!.matchAll(/Vigil[A-Za-z]+/g)].map((m) => m[0])));
    }
    assert.deepEqual([...policy.keys()].sort(), ['critical', 'info', 'warning']);
    const declared = rules.map((r) => `${r.alert} ${r.labels?.severity}`).sort();
    const written = [...policy].flatMap(([severity, alerts]) => [...alerts].map((a) => `${a} ${severity}`)).sort();
    assert.deepEqual(declared, written, 'every rule has the severity the policy gives it, and the policy names no other');
  });

  void it('match histogram buckets on Prometheus 2 and 3 alike', () => {
    // Prometheus 3 stores le="5" as le="5.0": a whole-number edge must be matched both ways.
    const doc = parse(readFileSync(path.join(root, RULES_FILE), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    const text = doc.groups.flatMap((g) => g.rules.map((r) => r.expr)).join('\n');
    const exact = [...text.matchAll(/le="(\d+)"/g)].map((m) => m[0]);
    assert.deepEqual(exact, [], 'whole-number bucket edges matched exactly');
    assert.match(text, /le=~"5\|5\\\\\.0"/);
    assert.match(text, /le=~"15\|15\\\\\.0"/);
  });

  void it('each have a written runbook', () => {
    for (const r of rules.filter((x, i) => rules.findIndex((y) => y.alert === x.alert) === i)) {
      const file = path.join(root, 'docs/runbooks', `${r.alert}.md`);
      assert.ok(existsSync(file), `${r.alert}: no runbook at ${file}`);
      const text = readFileSync(file, 'utf8');
      assert.match(text, new RegExp(`^# ${r.alert}\\n`));
      for (const section of ['## Meaning', '## Blast radius', '## What to check', '## How to fix it']) assert.ok(text.includes(section), `${r.alert}: runbook lacks ${section}`);
      assert.match(text, /## Blast radius\n[^#]*```promql\n.+\n```/s, `${r.alert}: the blast radius as PromQL`);
      assert.match(text, /\[grafana\/vigil-[a-z-]+\.json\]\(\.\.\/\.\.\/grafana\/vigil-[a-z-]+\.json\)/, `${r.alert}: links its dashboard`);
      // kubeadm's etcd needs its certificates; a bare etcdctl fails there.
      if (/etcdctl/.test(text)) assert.match(text, /--cacert=\/etc\/kubernetes\/pki\/etcd\/ca\.crt/, `${r.alert}: etcdctl with kubeadm's certificate flags`);
      assert.doesNotMatch(text, /drain --force|app\.kubernetes\.io\/component=probe/, `${r.alert}: a command that does not work`);
    }
  });

  void it('unit tests feed exactly the labels a ServiceMonitor scrape gives a target', () => {
    const target = ['container', 'endpoint', 'instance', 'job', 'namespace', 'node', 'pod', 'service'];
    let checked = 0;
    for (const f of testFiles) {
      const doc = parse(readFileSync(path.join(root, f), 'utf8')) as { tests: { input_series: { series: string }[] }[] };
      for (const t of doc.tests) {
        for (const { series } of t.input_series) {
          const labels = Object.fromEntries([...series.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
          if (labels.job !== 'vigil') continue; // a target of another job, on purpose
          for (const l of target) assert.ok(l in labels, `${f}: ${series} lacks the target label ${l}`);
          assert.equal(labels.endpoint, 'http', `${f}: ${series}: endpoint is the port's name`);
          checked++;
        }
      }
    }
    assert.ok(checked > 500, `${checked} series`);
  });

  void it('each have a unit test in which they fire and one in which they stay silent', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const f of testFiles) {
      const doc = parse(readFileSync(path.join(root, f), 'utf8')) as UnitTests;
      for (const t of doc.tests) {
        for (const a of t.alert_rule_test ?? []) (a.exp_alerts?.length ? firing : silent).add(a.alertname);
      }
    }
    const missing = rules.map((r) => r.alert).filter((n) => !firing.has(n) || !silent.has(n));
    assert.deepEqual(missing, [], `alerts without a firing and a silent case: ${missing.join(', ')}`);
  });

  void it('are rendered into the committed PrometheusRule, with its metadata and runbook base kept', () => {
    const have = readFileSync(path.join(root, PROMETHEUS_RULE_FILE), 'utf8');
    const base = renderedRunbookBase(have);
    assert.ok(base, 'the PrometheusRule links absolute runbook URLs');
    const want = renderPrometheusRule(readFileSync(path.join(root, RULES_FILE), 'utf8'), { runbookBaseUrl: base, metadata: existingMetadata(have) });
    assert.ok(have === want, `${PROMETHEUS_RULE_FILE} is out of date: run npm run gen:prometheusrule`);
    const groups = (parse(have) as { spec: { groups: { rules: { expr: string }[] }[] } }).spec.groups;
    const source = (parse(readFileSync(path.join(root, RULES_FILE), 'utf8')) as { groups: { rules: { expr: string }[] }[] }).groups;
    assert.deepEqual(
      groups.flatMap((g) => g.rules.map((r) => r.expr)),
      source.flatMap((g) => g.rules.map((r) => r.expr)),
      'the expressions promtool tested',
    );
  });

  void it('the generator moves every runbook link to the base it is given, and names a bad one', () => {
    const text = readFileSync(path.join(root, RULES_FILE), 'utf8');
    const out = renderPrometheusRule(text, { runbookBaseUrl: 'https://git.example.org/ops/vigil/-/blob/main/docs/runbooks' });
    const urls = [...out.matchAll(/runbook_url: (\S+)/g)].map((m) => m[1]!);
    assert.equal(urls.length, rules.length);
    for (const u of urls) assert.match(u, /^https:\/\/git\.example\.org\/ops\/vigil\/-\/blob\/main\/docs\/runbooks\/Vigil\w+\.md$/);
    assert.throws(() => renderPrometheusRule(text, { runbookBaseUrl: 'docs/runbooks/' }), {
      message: 'runbook base URL: expected an absolute http(s) URL such as https://git.example.com/ops/vigil/-/blob/main/docs/runbooks/, got "docs/runbooks/"',
    });
    assert.throws(() => renderPrometheusRule(text, { runbookBaseUrl: 'ftp://example.org/' }), { message: 'runbook base URL: expected http or https, got "ftp://example.org/"' });
  });
});
