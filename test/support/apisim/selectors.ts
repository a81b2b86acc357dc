/**
 * Label and field selectors as the API server parses them. A parse error is reported as a
 * 400 BadRequest by the caller, with the message the real server gives.
 */

export type Labels = Record<string, string> | undefined;

export interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

export class SelectorError extends Error {}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside parentheses ("a in (x,y),b" → ["a in (x,y)", "b"]). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE.test(value) || value.length > 63) throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${whole}"`);
  return value;
}

export function parseLabelSelector(s: string | undefined): Requirement[] {
  if (!s) return [];
  return splitTerms(s).map((term): Requirement => {
    let m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) return { key: checkKey(m[1]!, s), op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => checkValue(v.trim(), s)) };
    m = /^([^=!\s]+)\s*(==|!=|=)\s*(\S*)$/.exec(term);
    if (m) {
      const key = checkKey(m[1]!, s);
      const value = checkValue(m[3]!, s);
      return { key, op: m[2] === '!=' ? 'notin' : 'in', values: [value] };
    }
    m = /^(!?)([^=!\s()]+)$/.exec(term);
    if (m) return { key: checkKey(m[2]!, s), op: m[1] ? '!exists' : 'exists', values: [] };
    throw new SelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchLabels(reqs: readonly Requirement[], labels: Labels): boolean {
  return reqs.every((r) => {
    const v = labels?.[r.key];
    switch (r.op) {
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case '!exists':
        return v === undefined;
    }
  });
}

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

/** Fields each resource can be selected by; the real server supports these (and a few more). */
export const SELECTABLE_FIELDS: Record<string, Record<string, (o: Record<string, unknown>) => string>> = {
  pods: {
    'metadata.name': (o) => str(o, 'metadata', 'name'),
    'metadata.namespace': (o) => str(o, 'metadata', 'namespace'),
    'spec.nodeName': (o) => str(o, 'spec', 'nodeName'),
    'spec.schedulerName': (o) => str(o, 'spec', 'schedulerName'),
    'status.phase': (o) => str(o, 'status', 'phase'),
    'status.podIP': (o) => str(o, 'status', 'podIP'),
  },
  nodes: {
    'metadata.name': (o) => str(o, 'metadata', 'name'),
    'spec.unschedulable': (o) => String(Boolean((o.spec as Record<string, unknown> | undefined)?.unschedulable)),
  },
  leases: {
    'metadata.name': (o) => str(o, 'metadata', 'name'),
    'metadata.namespace': (o) => str(o, 'metadata', 'namespace'),
  },
};

function str(o: Record<string, unknown>, a: string, b: string): string {
  const v = (o[a] as Record<string, unknown> | undefined)?.[b];
  return typeof v === 'string' ? v : '';
}

export function parseFieldSelector(s: string | undefined, resource: string): FieldRequirement[] {
  if (!s) return [];
  const fields = SELECTABLE_FIELDS[resource] ?? {};
  return s
    .split(',')
    .filter((t) => t.trim() !== '')
    .map((term) => {
      const m = /^([^=!]+)(==|!=|=)(.*)$/.exec(term.trim());
      if (!m) throw new SelectorError(`invalid selector: '${s}'; can't understand '${term}'`);
      const field = m[1]!.trim();
      if (!(field in fields)) throw new SelectorError(`field label not supported: ${field}`);
      return { field, equal: m[2] !== '!=', value: m[3]! };
    });
}

export function matchFields(reqs: readonly FieldRequirement[], resource: string, obj: Record<string, unknown>): boolean {
  const fields = SELECTABLE_FIELDS[resource] ?? {};
  return reqs.every((r) => (fields[r.field]!(obj) === r.value) === r.equal);
}

/** A parsed list/watch filter. */
export interface Filter {
  namespace?: string;
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function matches(filter: Filter, resource: string, obj: { metadata: { namespace?: string; labels?: Record<string, string> } }): boolean {
  if (filter.namespace !== undefined && obj.metadata.namespace !== filter.namespace) return false;
  return matchLabels(filter.labels, obj.metadata.labels) && matchFields(filter.fields, resource, obj);
}
