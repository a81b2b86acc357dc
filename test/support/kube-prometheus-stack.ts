// vigil's example Alertmanager configuration merged into kube-prometheus-stack's default one, step
// by step as the README ("kube-prometheus-stack") tells an operator to.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { EXAMPLE_ALERTMANAGER_CONFIG } from './monitoring.ts';

const STACK_DEFAULT = path.resolve(import.meta.dirname, 'kube-prometheus-stack/alertmanager.yml');

interface InhibitRule {
  source_matchers?: string[];
  target_matchers?: string[];
  equal?: string[];
}
interface Config {
  route: { routes?: unknown[] };
  receivers: unknown[];
  inhibit_rules?: InhibitRule[];
}

/**
 * The stack's default configuration with vigil's route placed first under its root route, vigil's
 * receivers added and vigil's inhibitions appended. `scoped`: the stack's severity inhibitions
 * leave vigil's alerts out (`alertname!~"Vigil.*"`), the one edit the README asks for; without
 * it, the stack's defaults are kept untouched.
 */
export function mergedIntoKubePrometheusStack(opts: { scoped: boolean }): string {
  const stack = parse(readFileSync(STACK_DEFAULT, 'utf8')) as Config;
  const vigil = parse(readFileSync(EXAMPLE_ALERTMANAGER_CONFIG, 'utf8')) as Config;
  const vigilRoute = (vigil.route.routes ?? [])[0];
  if (!vigilRoute) throw new Error(`${EXAMPLE_ALERTMANAGER_CONFIG}: no vigil route under the root route`);
  stack.route.routes = [vigilRoute, ...(stack.route.routes ?? [])];
  stack.receivers = [...stack.receivers, ...vigil.receivers];
  const own = (stack.inhibit_rules ?? []).map((r) => (opts.scoped && r.target_matchers?.some((m) => /^severity\b/.test(m)) ? { ...r, target_matchers: [...r.target_matchers, 'alertname !~ "Vigil.*"'] } : r));
  stack.inhibit_rules = [...own, ...(vigil.inhibit_rules ?? [])];
  return stringify(stack);
}
