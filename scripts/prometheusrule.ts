import { parse, stringify } from 'yaml';

export const RULES_FILE = 'alerts/vigil.rules.yml';
export const PROMETHEUS_RULE_FILE = 'deploy/components/kube-prometheus-stack/prometheusrule.yaml';

/**
 * Renders the Prometheus rules file as a PrometheusRule for the Prometheus operator. The rules are
 * copied verbatim, so the operator evaluates exactly what promtool tested.
 */
export function renderPrometheusRule(rulesText: string): string {
  const rules = parse(rulesText) as { groups?: unknown };
  if (!rules || !Array.isArray(rules.groups)) throw new Error(`${RULES_FILE}: expected a mapping with a list of groups`);
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'vigil', namespace: 'vigil', labels: { 'app.kubernetes.io/name': 'vigil', 'app.kubernetes.io/component': 'alerting' } },
    spec: { groups: rules.groups },
  };
  const header = `# Generated from ${RULES_FILE} by \`npm run gen:prometheusrule\`; do not edit by hand.\n`;
  return header + stringify(object, { lineWidth: 0 });
}
