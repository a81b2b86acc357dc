import { parse, stringify } from 'yaml';

export const RULES_FILE = 'alerts/vigil.rules.yml';
export const PROMETHEUS_RULE_FILE = 'deploy/components/kube-prometheus-stack/prometheusrule.yaml';

/** The runbook base the rules file is written with; the generator replaces it with the operator's. */
export const DEFAULT_RUNBOOK_BASE_URL = 'https://vigil.example.com/runbooks/';

const DEFAULT_METADATA = { name: 'vigil', namespace: 'vigil', labels: { 'app.kubernetes.io/name': 'vigil', 'app.kubernetes.io/component': 'alerting' } };

interface RuleGroup {
  rules?: { annotations?: Record<string, string> }[];
}

/** Checks a runbook base URL and gives it a trailing slash; throws an error naming the problem. */
export function runbookBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`runbook base URL: expected an absolute http(s) URL such as https://git.example.com/ops/vigil/-/blob/main/docs/runbooks/, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`runbook base URL: expected http or https, got ${JSON.stringify(url)}`);
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Renders the Prometheus rules file as a PrometheusRule for the Prometheus operator. The rules are
 * copied verbatim but for the runbook URLs, which move to `runbookBaseUrl`, so the operator
 * evaluates exactly what promtool tested. `metadata` (the current file's, with whatever labels the
 * deployment selects on) is kept; absent, a default is written.
 */
export function renderPrometheusRule(rulesText: string, opts: { runbookBaseUrl?: string; metadata?: unknown } = {}): string {
  const rules = parse(rulesText) as { groups?: RuleGroup[] };
  if (!rules || !Array.isArray(rules.groups)) throw new Error(`${RULES_FILE}: expected a mapping with a list of groups`);
  const base = runbookBase(opts.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL);
  for (const g of rules.groups) {
    for (const r of g.rules ?? []) {
      const url = r.annotations?.runbook_url;
      if (url === undefined) continue;
      if (!url.startsWith(DEFAULT_RUNBOOK_BASE_URL)) throw new Error(`${RULES_FILE}: runbook_url ${url} does not start with ${DEFAULT_RUNBOOK_BASE_URL}`);
      r.annotations!.runbook_url = base + url.slice(DEFAULT_RUNBOOK_BASE_URL.length);
    }
  }
  const object = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: opts.metadata ?? DEFAULT_METADATA, spec: { groups: rules.groups } };
  const header = `# Generated from ${RULES_FILE} by \`npm run gen:prometheusrule\`; do not edit by hand.\n`;
  return header + stringify(object, { lineWidth: 0 });
}

/** The metadata of an existing PrometheusRule file, so regenerating keeps its labels. */
export function existingMetadata(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  return (parse(text) as { metadata?: unknown } | null)?.metadata;
}

/** The runbook base URL a rendered PrometheusRule was written with (from its first runbook_url). */
export function renderedRunbookBase(text: string): string | undefined {
  const url = /runbook_url: (\S+)/.exec(text)?.[1];
  return url && /^https?:\/\//.test(url) ? url.slice(0, url.lastIndexOf('/') + 1) : undefined;
}
