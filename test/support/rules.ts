import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alerting rules of a Prometheus rules file, in file order. */
export function loadAlertRules(file: string): AlertRule[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules).filter((r) => typeof r.alert === 'string');
}

export interface RecordingRule {
  record: string;
  expr: string;
}

/** The recording rules of a Prometheus rules file, in file order. */
export function loadRecordingRules(file: string): RecordingRule[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { rules: RecordingRule[] }[] };
  return doc.groups.flatMap((g) => g.rules).filter((r) => typeof r.record === 'string');
}
