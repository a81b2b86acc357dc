// What each row of the matrix wanted notified, against what Alertmanager sent: the distinct
// firing alerts per receiver (an alert repeated in a later notification of its group counts once;
// one that resolves and fires again counts twice), and every resolved one matched to a firing one.
import type { Notification } from '../monitoring.ts';
import { FACTOR } from './world.ts';

/** One wanted (or tolerated) notification. Patterns match the whole value (`pager|team`, `VigilEtcd.+`). */
export interface Expect {
  receiver: string;
  alertname: string;
  /** The values of the alert's naming labels (node, peer_node, member, component, probe, …), in any order; absent: not checked. */
  names?: readonly string[];
  /** How many distinct firing alerts (default 1). */
  count?: number;
  /** All `count` alerts must arrive in one notification. */
  together?: boolean;
}

/** Allowed but not wanted: an artefact of compressing time, with the reason written down. */
export interface Tolerated extends Expect {
  why: string;
}

/** Labels that say how or where an alert was seen, not what it is about. */
const NOT_NAMING = new Set(['alertname', 'severity', 'cluster', 'instance', 'job', 'namespace', 'service', 'pod', 'container', 'endpoint', 'path', 'network', 'alarm', 'operation', 'kind', 'reason']);

export interface NotifiedAlert {
  receiver: string;
  alertname: string;
  names: string[];
  labels: Record<string, string>;
  startsAt: string;
  /** Wall-clock ms of the first notification that carried it. */
  receivedAt: number;
}

/** The distinct firing and resolved alerts of every notification, by cluster label ('' without one). */
export function collect(notifications: readonly Notification[]): Map<string, { firing: NotifiedAlert[]; resolved: NotifiedAlert[] }> {
  const out = new Map<string, { firing: NotifiedAlert[]; resolved: NotifiedAlert[] }>();
  const seen = new Set<string>();
  for (const n of notifications) {
    for (const a of n.alerts) {
      const key = `${a.status} ${n.receiver} ${identity(a.labels)} ${a.startsAt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const cluster = a.labels.cluster ?? '';
      if (!out.has(cluster)) out.set(cluster, { firing: [], resolved: [] });
      const alert: NotifiedAlert = {
        receiver: n.receiver,
        alertname: a.labels.alertname ?? '',
        names: Object.entries(a.labels)
          .filter(([k]) => !NOT_NAMING.has(k))
          .map(([, v]) => v)
          .sort(),
        labels: a.labels,
        startsAt: a.startsAt,
        receivedAt: n.receivedAt,
      };
      out.get(cluster)![a.status === 'firing' ? 'firing' : 'resolved'].push(alert);
    }
  }
  return out;
}

const identity = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const full = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`).test(value);
const sameNames = (want: readonly string[] | undefined, got: readonly string[]) => want === undefined || JSON.stringify([...want].sort()) === JSON.stringify(got);

export function matches(e: Expect, a: NotifiedAlert): boolean {
  return full(e.receiver, a.receiver) && full(e.alertname, a.alertname) && sameNames(e.names, a.names);
}

export const describeAlert = (a: { alertname: string; names?: readonly string[] }) => `${a.alertname}${a.names === undefined ? '' : `(${a.names.join(',')})`}`;
export const describeExpect = (e: Expect) => `${e.receiver}: ${describeAlert(e)}${(e.count ?? 1) !== 1 ? ` ×${e.count}` : ''}`;

export interface Verdict {
  /** What went wrong; empty when the row holds. */
  problems: string[];
  /** Per receiver, what was notified (firing), e.g. "VigilNodeUnreachable(w-3) ×1". */
  notified: Record<string, string[]>;
  /** Wall-clock seconds from the fault to each wanted alert's first notification. */
  delays: string[];
}

/**
 * Matches the firing alerts one to one to the wanted ones (a bipartite matching, so a broad
 * pattern cannot take the alert a narrow one needs), then to the tolerated ones.
 */
export function judge(opts: { want: readonly Expect[]; tolerate?: readonly Tolerated[]; firing: readonly NotifiedAlert[]; resolved: readonly NotifiedAlert[]; faultAtMs: number }): Verdict {
  const slots = opts.want.flatMap((e) => Array.from({ length: e.count ?? 1 }, () => e));
  const owner: (number | undefined)[] = slots.map(() => undefined);
  const assign = (ai: number, visited: Set<number>): boolean => {
    for (let si = 0; si < slots.length; si++) {
      if (visited.has(si) || !matches(slots[si]!, opts.firing[ai]!)) continue;
      visited.add(si);
      const held = owner[si];
      if (held === undefined || assign(held, visited)) {
        owner[si] = ai;
        return true;
      }
    }
    return false;
  };
  const problems: string[] = [];
  const delays: string[] = [];
  opts.firing.forEach((_, ai) => assign(ai, new Set()));
  const taken = new Set(owner.filter((o) => o !== undefined));
  slots.forEach((e, si) => {
    const ai = owner[si];
    if (ai === undefined) {
      problems.push(`missing: ${describeExpect(e)}`);
      return;
    }
    const a = opts.firing[ai]!;
    const after = ((a.receivedAt - opts.faultAtMs) / 1000) * FACTOR;
    delays.push(`${describeAlert(a)} ${(after / 60).toFixed(1)} min after the fault`);
  });
  for (const e of new Set(slots.filter((x) => x.together))) {
    const arrivals = new Set(slots.flatMap((x, si) => (x === e && owner[si] !== undefined ? [opts.firing[owner[si]]!.receivedAt] : [])));
    if (arrivals.size > 1) problems.push(`not in one notification: ${describeExpect(e)} arrived in ${arrivals.size}`);
  }
  opts.firing.forEach((a, ai) => {
    if (taken.has(ai) || opts.tolerate?.some((t) => matches(t, a))) return;
    problems.push(`unwanted: ${a.receiver}: ${describeAlert(a)} ${((((a.receivedAt - opts.faultAtMs) / 1000) * FACTOR) / 60).toFixed(1)} min after the fault`);
  });
  for (const r of opts.resolved) {
    if (!opts.firing.some((f) => f.receiver === r.receiver && f.startsAt === r.startsAt && identity(f.labels) === identity(r.labels))) problems.push(`resolved without having fired: ${r.receiver}: ${describeAlert(r)}`);
  }
  const notified: Record<string, string[]> = {};
  const counts = new Map<string, number>();
  for (const a of opts.firing) counts.set(`${a.receiver}\t${describeAlert(a)}`, (counts.get(`${a.receiver}\t${describeAlert(a)}`) ?? 0) + 1);
  for (const [key, n] of counts) {
    const [receiver, what] = key.split('\t') as [string, string];
    (notified[receiver] ??= []).push(n > 1 ? `${what} ×${n}` : what);
  }
  return { problems, notified, delays };
}
