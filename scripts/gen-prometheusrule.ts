// Writes deploy/base/prometheusrule.yaml from alerts/vigil.rules.yml (`npm run gen:prometheusrule`).
// The runbook links point at --runbook-base-url (or VIGIL_RUNBOOK_BASE_URL): where the operator
// publishes docs/runbooks/, e.g. their fork's web view. Without either, the file's current base is kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROMETHEUS_RULE_FILE, RULES_FILE, existingMetadata, renderPrometheusRule, renderedRunbookBase } from './prometheusrule.ts';

try {
  const { values } = parseArgs({ options: { 'runbook-base-url': { type: 'string' } } });
  const current = existsSync(PROMETHEUS_RULE_FILE) ? readFileSync(PROMETHEUS_RULE_FILE, 'utf8') : undefined;
  const runbookBaseUrl = values['runbook-base-url'] ?? process.env.VIGIL_RUNBOOK_BASE_URL ?? (current && renderedRunbookBase(current));
  writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule(readFileSync(RULES_FILE, 'utf8'), { runbookBaseUrl, metadata: existingMetadata(current) }));
  process.stdout.write(`wrote ${PROMETHEUS_RULE_FILE}\n`);
} catch (err) {
  process.stderr.write(`gen-prometheusrule: ${(err as Error).message}\n`);
  process.exit(1);
}
