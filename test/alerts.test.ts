// The alert rules: promtool accepts and unit-tests them, they follow the conventions, every alert
// has a runbook and a test that shows it firing and staying silent, and the PrometheusRule is current.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRule } from '../scripts/prometheusrule.ts';
import { loadAlertRules } from './support/rules.ts';

const root = path.resolve(import.meta.dirname, '..');
const testDir = path.join(root, 'alerts/tests');
const testFiles = readdirSync(testDir).filter((f) => f.endsWith('.yml')).sort().map((f) => path.join('alerts/tests', f));

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
    assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  void it('pass their promtool unit tests', () => {
    assert.ok(testFiles.length > 0);
    const r = promtool('test', 'rules', ...testFiles);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /FAILED/);
  });

  void it('follow the naming, for, severity and annotation conventions', () => {
    assert.ok(rules.length >= 20, `only ${rules.length} alerts`);
    const names = new Set<string>();
    for (const r of rules) {
      assert.match(r.alert, /^Vigil[A-Z][A-Za-z]+$/, `${r.alert}: CamelCase name prefixed Vigil`);
      assert.ok(!names.has(r.alert), `${r.alert}: defined twice`);
      names.add(r.alert);
      assert.match(r.for ?? '', /^\d+[smh]$/, `${r.alert}: needs a for`);
      assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''), `${r.alert}: severity ${r.labels?.severity}`);
      const a = r.annotations ?? {};
      assert.ok(a.summary && !a.summary.includes('{{'), `${r.alert}: the summary must be static`);
      assert.match(a.description ?? '', /\{\{ \$(labels\.\w+|value)[ |]/, `${r.alert}: the description must be templated with what is affected or the value`);
      assert.equal(a.runbook_url, `docs/runbooks/${r.alert}.md`);
    }
  });

  void it('each have a written runbook', () => {
    for (const r of rules) {
      const file = path.join(root, 'docs/runbooks', `${r.alert}.md`);
      assert.ok(existsSync(file), `${r.alert}: no runbook at ${file}`);
      const text = readFileSync(file, 'utf8');
      assert.match(text, new RegExp(`^# ${r.alert}\\n`));
      for (const section of ['## Meaning', '## What to check', '## How to fix it']) assert.ok(text.includes(section), `${r.alert}: runbook lacks ${section}`);
    }
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

  void it('are rendered into the committed PrometheusRule', () => {
    const want = renderPrometheusRule(readFileSync(path.join(root, RULES_FILE), 'utf8'));
    const have = readFileSync(path.join(root, PROMETHEUS_RULE_FILE), 'utf8');
    assert.ok(have === want, `${PROMETHEUS_RULE_FILE} is out of date: run npm run gen:prometheusrule`);
    const groups = (parse(have) as { spec: { groups: unknown } }).spec.groups;
    assert.deepEqual(groups, (parse(readFileSync(path.join(root, RULES_FILE), 'utf8')) as { groups: unknown }).groups);
  });
});
