import type { FanoutResult } from '../status/cluster.ts';
import { iso, millis } from '../status/when.ts';
import type { FailureKind, LocalStatusWithPeers, PeerObservation } from '../status/cluster-types.ts';
import type { ProbeStatus } from '../status/local.ts';
import { arr, bad, FAILURES, handCheck, num, numOrNull, obj, oneOf, probeOf, str, VERDICTS, type Path } from './status-check.ts';
import type { WireSchema } from './wire.ts';

/**
 * What a relay sends back for the members it was asked about: each member's local status as the
 * merge reads it, in a compact form. Probes keep their records (without what the asker will not
 * show: ok probes' messages, figures and run times unless asked for); each reachability edge is
 * one array instead of an object with the names repeated. Nothing the merge reads is dropped, so
 * the causes named from relayed statuses are the causes named from the same statuses asked for
 * one by one.
 */

/** Most members one relay is asked about at once. */
export const MAX_RELAY_MEMBERS = 256;

/** What the asker will show beyond the merge's input: ok probes' messages, probes' whole records, up edges' round-trip times. */
export interface RelayDetail {
  messages: boolean;
  probes: boolean;
  reachability: boolean;
}

/** A probe as relayed: whole with `detail=probes`; otherwise without its figures and run time, and without the fields that hold their default (no reason, no message, not skipped, no facts). */
export type RelayedProbe = Pick<ProbeStatus, 'name' | 'verdict' | 'since' | 'lastRun'> & Partial<ProbeStatus>;

const PROBE_DEFAULTS = { reason: null, message: '', durationSeconds: null, skipped: false, observations: null } as const;

/** [peer, network (0 pod, 1 host), up (0 or 1), failure, clock offset s, round trip s, since ms, clock off since ms]; trailing nulls may be left out (the first three may not). */
export type EdgeTuple = [peer: string, network: 0 | 1, up: 0 | 1, failure: FailureKind | null, clockOffsetSeconds: number | null, rttSeconds: number | null, since: number | null, clockOffSince: number | null];

export type RelayedMember =
  { node: string; ok: true; verdict: LocalStatusWithPeers['verdict']; time: string; probes: RelayedProbe[]; edges: EdgeTuple[] } | { node: string; ok: false; failure: FailureKind; error: string; asked?: false; downSince?: string };

export interface RelayAnswer {
  relay: string;
  members: RelayedMember[];
}

/** One member's result, as a relay sends it. */
export function compactMember(node: string, r: FanoutResult, detail: RelayDetail): RelayedMember {
  if (!r.ok) return { node, ok: false, failure: r.failure, error: r.error, ...(r.asked === false ? { asked: false as const } : {}), ...(r.downSince ? { downSince: r.downSince } : {}) };
  const s = r.status;
  const probes = s.probes.map((p): RelayedProbe => {
    if (detail.probes) return p;
    // what the merge reads and the answer shows; the rest left out when it holds the default
    const out: RelayedProbe = { name: p.name, verdict: p.verdict, since: p.since, lastRun: p.lastRun };
    if (p.reason !== null) out.reason = p.reason;
    if ((detail.messages || p.verdict !== 'ok') && p.message !== '') out.message = p.message;
    if (p.skipped) out.skipped = true;
    if (p.facts != null) out.facts = p.facts;
    return out;
  });
  const edges = s.peers.map((o): EdgeTuple => {
    // an up edge's since is read by nothing (the merge dates what is down); trailing nulls are left out
    const e: EdgeTuple = [o.peer, o.network === 'pod' ? 0 : 1, o.up ? 1 : 0, o.failure ?? null, o.clockOffsetSeconds, detail.reachability || !o.up ? o.rttSeconds : null, o.up ? null : millis(o.since), millis(o.clockOffSince)];
    let n = e.length;
    while (n > 3 && e[n - 1] === null) n--;
    return e.slice(0, n) as EdgeTuple;
  });
  return { node, ok: true, verdict: s.verdict, time: s.time, probes, edges };
}

/** A relayed member back into the shape the merge takes. */
export function expandMember(m: RelayedMember): FanoutResult {
  if (!m.ok) return { ok: false, failure: m.failure, error: m.error, ...(m.asked === false ? { asked: false as const } : {}), ...(m.downSince ? { downSince: m.downSince } : {}) };
  const peers = m.edges.map(([peer, net, up, failure = null, clockOffsetSeconds = null, rttSeconds = null, since = null, clockOffSince = null]): PeerObservation => {
    const o: PeerObservation = { peer, network: net === 0 ? 'pod' : 'host', up: up === 1, rttSeconds, clockOffsetSeconds, lastChecked: m.time, error: null, failure };
    if (since !== null) o.since = iso(since)!;
    if (clockOffSince !== null) o.clockOffSince = iso(clockOffSince);
    return o;
  });
  const probes = m.probes.map((p): ProbeStatus => ({ ...PROBE_DEFAULTS, ...p }));
  return { ok: true, status: { node: m.node, verdict: m.verdict, time: m.time, probes, peers } };
}

/** The range of times a Date holds, in ms from the epoch. */
const MAX_TIME = 8.64e15;
function timeOrNull(v: unknown, at: Path, key: number): number | null {
  if (v === null) return null;
  const t = num(v, at, String(key));
  if (!Number.isInteger(t) || Math.abs(t) > MAX_TIME) throw bad(at, key, 'expected a time in ms since the epoch');
  return t;
}
function bit(v: unknown, at: Path, key: number): 0 | 1 {
  if (v !== 0 && v !== 1) throw bad(at, key, 'expected 0 or 1');
  return v;
}

function edgeOf(v: unknown, at: Path): EdgeTuple {
  const e = arr(v, at.slice(0, -1), String(at[at.length - 1]), 8);
  if (e.length < 3) throw bad(at, undefined, 'expected 3 to 8 items');
  const rtt = numOrNull(e[5] ?? null, at, '5');
  if (rtt !== null && rtt < 0) throw bad(at, 5, 'must be 0 or more');
  const f = e[3] ?? null;
  return [
    str(e[0], at, '0', 253, 1),
    bit(e[1], at, 1),
    bit(e[2], at, 2),
    f === null ? null : oneOf<FailureKind>(f, FAILURES, at, '3'),
    numOrNull(e[4] ?? null, at, '4'),
    rtt,
    timeOrNull(e[6] ?? null, at, 6),
    timeOrNull(e[7] ?? null, at, 7),
  ];
}

/** A relayed probe: the fields left out are checked as their defaults, and stay left out. */
function relayedProbeOf(v: unknown, j: number, at: Path): RelayedProbe {
  const p = obj(v, [...at, 'probes'], j);
  const checked = probeOf({ ...PROBE_DEFAULTS, ...p }, j, at);
  const out: RelayedProbe = { name: checked.name, verdict: checked.verdict, since: checked.since, lastRun: checked.lastRun };
  for (const key of ['reason', 'message', 'durationSeconds', 'skipped', 'observations', 'facts'] as const) if (p[key] !== undefined) (out as Record<string, unknown>)[key] = checked[key];
  return out;
}

function memberOf(v: unknown, i: number): RelayedMember {
  const at = ['members', i];
  const m = obj(v, at);
  const node = str(m.node, at, 'node', 253, 1);
  if (m.ok === true) {
    return {
      node,
      ok: true,
      verdict: oneOf<LocalStatusWithPeers['verdict']>(m.verdict, VERDICTS, at, 'verdict'),
      time: str(m.time, at, 'time', 40),
      probes: arr(m.probes, at, 'probes', 200).map((p, j) => relayedProbeOf(p, j, at)),
      edges: arr(m.edges, at, 'edges', 2000).map((e, j) => edgeOf(e, [...at, 'edges', j])),
    };
  }
  if (m.ok !== false) throw bad(at, 'ok', 'expected true or false');
  const out: RelayedMember = { node, ok: false, failure: oneOf<FailureKind>(m.failure, FAILURES, at, 'failure'), error: str(m.error, at, 'error', 500) };
  if (m.asked !== undefined) {
    if (m.asked !== false) throw bad(at, 'asked', 'expected false or nothing');
    out.asked = false;
  }
  if (m.downSince !== undefined) out.downSince = str(m.downSince, at, 'downSince', 40);
  return out;
}

/** A relay's answer, checked by hand like the local statuses it carries, with the same bounds. */
export const relayAnswerCheck: WireSchema<RelayAnswer> = handCheck((input) => {
  const a = obj(input, []);
  return { relay: str(a.relay, [], 'relay', 253, 1), members: arr(a.members, [], 'members', MAX_RELAY_MEMBERS).map(memberOf) };
});
