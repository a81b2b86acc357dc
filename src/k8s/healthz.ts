export interface HealthCheck {
  name: string;
  ok: boolean;
  /** What followed the check's name: "ok", "failed: reason withheld", "excluded: ok". */
  detail: string;
}

export interface HealthReport {
  checks: HealthCheck[];
  /** The closing verdict line ("readyz check passed"/"... failed"), when present. */
  passed?: boolean;
}

/**
 * Parses the verbose output of /livez, /readyz and /healthz:
 *   [+]ping ok
 *   [-]etcd failed: reason withheld
 *   readyz check failed
 */
export function parseHealthOutput(text: string): HealthReport {
  const checks: HealthCheck[] = [];
  let passed: boolean | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^\[([+-])\](\S+)\s*(.*)$/.exec(line);
    if (m) checks.push({ name: m[2]!, ok: m[1] === '+', detail: m[3]! });
    else if (/check passed$/.test(line)) passed = true;
    else if (/check failed$/.test(line)) passed = false;
  }
  return { checks, ...(passed === undefined ? {} : { passed }) };
}

/** Names of the failing checks, in the order the server listed them. */
export const failingChecks = (r: HealthReport): string[] => r.checks.filter((c) => !c.ok).map((c) => c.name);
