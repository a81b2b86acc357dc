import type { FanoutResult } from '../status/cluster.ts';
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

/** [peer, network (0 pod, 1 host), up (0 or 1), failure, clock offset s, round trip s, since ms, clock off since ms] */
export type EdgeTuple = [peer: string, network: 0 | 1, up: 0 | 1, failure: FailureKind | null, clockOffsetSeconds: number | null, rttSeconds: number | null, since: number | null, clockOffSince: number | null];

export type RelayedMember =
  { node: string; ok: true; verdict: LocalStatusWithPeers['verdict']; time: string; probes: ProbeStatus[]; edges: EdgeTuple[] } | { node: string; ok: false; failure: FailureKind; error: string; asked?: false; downSince?: string };

export interface RelayAnswer {
  relay: string;
  members: RelayedMember[];
}

const millis = (t: string | null | undefined) => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? null : ms;
};

/** One member's result, as a relay sends it. */
export function compactMember(node: string, r: FanoutResult, detail: RelayDetail): RelayedMember {
  if (!r.ok) return { node, ok: false, failure: r.failure, error: r.error, ...(r.asked === false ? { asked: false as const } : {}), ...(r.downSince ? { downSince: r.downSince } : {}) };
  const s = r.status;
  const probes = s.probes.map((p): ProbeStatus => {
    if (detail.probes) return p;
    return { ...p, message: detail.messages || p.verdict !== 'ok' ? p.message : '', durationSeconds: null, observations: null };
  });
  const edges = s.peers.map((o): EdgeTuple => [o.peer, o.network === 'pod' ? 0 : 1, o.up ? 1 : 0, o.failure ?? null, o.clockOffsetSeconds, detail.reachability || !o.up ? o.rttSeconds : null, millis(o.since), millis(o.clockOffSince)]);
  return { node, ok: true, verdict: s.verdict, time: s.time, probes, edges };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A relayed member back into the shape the merge takes. */
export function expandMember(m: RelayedMember): FanoutResult {
  if (!m.ok) return { ok: false, failure: m.failure, error: m.error, ...(m.asked === false ? { asked: false as const } : {}), ...(m.downSince ? { downSince: m.downSince } : {}) };
  const peers = m.edges.map(([peer, net, up, failure, clockOffsetSeconds, rttSeconds, since, clockOffSince]): PeerObservation => {
    const o: PeerObservation = { peer, network: net === 0 ? 'pod' : 'host', up: up === 1, rttSeconds, clockOffsetSeconds, lastChecked: m.time, error: null, failure };
    if (since !== null) o.since = iso(since);
    if (clockOffSince !== null) o.clockOffSince = iso(clockOffSince);
    return o;
  });
  return { ok: true, status: { node: m.node, verdict: m.verdict, time: m.time, probes: m.probes, peers } };
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
  if (e.length !== 8) throw bad(at, undefined, 'expected 8 items');
  const rtt = numOrNull(e[5], at, '5');
  if (rtt !== null && rtt < 0) throw bad(at, 5, 'must be 0 or more');
  return [str(e[0], at, '0', 253, 1), bit(e[1], at, 1), bit(e[2], at, 2), e[3] === null ? null : oneOf<FailureKind>(e[3], FAILURES, at, '3'), numOrNull(e[4], at, '4'), rtt, timeOrNull(e[6], at, 6), timeOrNull(e[7], at, 7)];
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
      probes: arr(m.probes, at, 'probes', 200).map((p, j) => probeOf(p, j, at)),
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
