// Writes deploy/components/kube-prometheus-stack/prometheusrule.yaml from alerts/vigil.rules.yml (`npm run gen:prometheusrule`).
import { readFileSync, writeFileSync } from 'node:fs';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRule } from './prometheusrule.ts';

writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule(readFileSync(RULES_FILE, 'utf8')));
process.stdout.write(`wrote ${PROMETHEUS_RULE_FILE}\n`);
