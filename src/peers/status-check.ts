import type { LocalStatusAnswer, WireSchema } from './wire.ts';

/**
 * `localStatusAnswer` checked by hand. A cluster status asks every peer for this answer at once:
 * at 1,000 nodes the zod schema took most of the agent's time between the answers arriving and the
 * deadline (about a third of the peers went unheard on 2 cores), while this takes a fraction of it.
 * It accepts and rejects exactly what the zod schema does and returns the same output: the
 * declared fields only, in new objects, `peers` defaulting to [] (pinned by a comparison test on
 * generated and mutated answers). The zod schema stays the declaration; change both together.
 */

export type Path = readonly (string | number)[];
export class Bad extends Error {
  readonly path: Path;
  constructor(path: Path, message: string) {
    super(message);
    this.path = path;
  }
}

export const VERDICTS: ReadonlySet<unknown> = new Set(['ok', 'warning', 'critical', 'unknown']);
const NETWORKS: ReadonlySet<unknown> = new Set(['pod', 'host']);
export const FAILURES: ReadonlySet<unknown> = new Set(['refused', 'timeout', 'unreachable', 'http', 'bad']);

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
// Every check takes the parent's path and its key: the path is built only for an error.
export const bad = (at: Path, key: string | number | undefined, message: string) => new Bad(key === undefined ? at : [...at, key], message);

export function obj(v: unknown, at: Path, key?: string | number): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(at, key, `expected object, got ${typeName(v)}`);
  return v as Record<string, unknown>;
}
/** Lengths count code points, as zod's do (a surrogate pair is one; the count is needed only near a limit). */
const codePoints = (v: string) => [...v].length;
export function str(v: unknown, at: Path, key: string, max: number, min = 0): string {
  if (typeof v !== 'string') throw bad(at, key, `expected string, got ${typeName(v)}`);
  if (v.length > max && codePoints(v) > max) throw bad(at, key, `too long: more than ${max} characters`);
  if (v.length < 2 * min && codePoints(v) < min) throw bad(at, key, `too short: fewer than ${min} characters`);
  return v;
}
export const strOrNull = (v: unknown, at: Path, key: string, max: number): string | null => (v === null ? null : str(v, at, key, max));
export function num(v: unknown, at: Path, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(at, key, `expected number, got ${typeName(v)}`);
  return v;
}
export const numOrNull = (v: unknown, at: Path, key: string): number | null => (v === null ? null : num(v, at, key));
export function bool(v: unknown, at: Path, key: string): boolean {
  if (typeof v !== 'boolean') throw bad(at, key, `expected boolean, got ${typeName(v)}`);
  return v;
}
export function oneOf<T>(v: unknown, set: ReadonlySet<unknown>, at: Path, key: string): T {
  if (!set.has(v)) throw bad(at, key, `expected one of ${[...set].map((x) => JSON.stringify(x)).join(', ')}`);
  return v as T;
}
export function arr(v: unknown, at: Path, key: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw bad(at, key, `expected array, got ${typeName(v)}`);
  if (v.length > max) throw bad(at, key, `too many: more than ${max} items`);
  return v;
}

function observationsOf(v: unknown, at: Path): Record<string, number | string | boolean | null> {
  const o = obj(v, at, 'observations');
  const out: Record<string, number | string | boolean | null> = {};
  for (const key of Object.keys(o)) {
    if (key === '__proto__') continue; // never copied: assigning it would replace the output's prototype
    const here = [...at, 'observations'];
    str(key, here, key, 200);
    const x = o[key];
    if (x === null || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))) out[key] = x;
    else if (typeof x === 'string') out[key] = str(x, here, key, 500);
    else throw bad(here, key, `expected number, string, boolean or null, got ${typeName(x)}`);
  }
  return out;
}

/** A fact's value: a scalar, or (while depth is left) an array of up to 64 or an object of them. */
function factOf(x: unknown, at: Path, key: string | number, depth: number): unknown {
  if (x === null || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))) return x;
  if (typeof x === 'string') return str(x, at, String(key), 500);
  if (depth > 0 && Array.isArray(x)) {
    if (x.length > 64) throw bad(at, key, 'too many: more than 64 items');
    const here = [...at, key];
    return x.map((v, i) => factOf(v, here, i, depth - 1));
  }
  if (depth > 0 && typeof x === 'object') return factRecord(x, [...at, key], depth - 1);
  throw bad(at, key, `expected a scalar${depth > 0 ? ', an array or an object' : ''}, got ${typeName(x)}`);
}

function factRecord(v: object, at: Path, depth: number): Record<string, unknown> {
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    if (key === '__proto__') continue; // never copied: assigning it would replace the output's prototype
    str(key, at, key, 200);
    out[key] = factOf(o[key], at, key, depth);
  }
  return out;
}

type ProbeOut = LocalStatusAnswer['probes'][number];
/** One probe's record; `base` is where the probes list sits, for the error's path. */
export function probeOf(v: unknown, i: number, base: Path = []): ProbeOut {
  const at = [...base, 'probes', i];
  const p = obj(v, at);
  const out: ProbeOut = {
    name: str(p.name, at, 'name', 63),
    verdict: oneOf<ProbeOut['verdict']>(p.verdict, VERDICTS, at, 'verdict'),
    reason: strOrNull(p.reason, at, 'reason', 63),
    message: str(p.message, at, 'message', 2000),
    since: strOrNull(p.since, at, 'since', 40),
    lastRun: strOrNull(p.lastRun, at, 'lastRun', 40),
    durationSeconds: numOrNull(p.durationSeconds, at, 'durationSeconds'),
    skipped: bool(p.skipped, at, 'skipped'),
    observations: p.observations === null ? null : observationsOf(p.observations, at),
  };
  // An absent key (or undefined) stays absent in the output, as zod's optional does.
  if (p.facts !== undefined) out.facts = p.facts === null ? null : (factRecord(obj(p.facts, at, 'facts'), [...at, 'facts'], 3) as ProbeOut['facts']);
  return out;
}

type ObservationOut = LocalStatusAnswer['peers'][number];
function observationOf(v: unknown, i: number): ObservationOut {
  const at = ['peers', i];
  const o = obj(v, at);
  // checked in the declaration's order, so the first problem named is the one zod would name
  const peer = str(o.peer, at, 'peer', 253, 1);
  const network = oneOf<ObservationOut['network']>(o.network, NETWORKS, at, 'network');
  const up = bool(o.up, at, 'up');
  const rttSeconds = numOrNull(o.rttSeconds, at, 'rttSeconds');
  if (rttSeconds !== null && rttSeconds < 0) throw bad(at, 'rttSeconds', 'must be 0 or more');
  const clockOffsetSeconds = numOrNull(o.clockOffsetSeconds, at, 'clockOffsetSeconds');
  const lastChecked = str(o.lastChecked, at, 'lastChecked', 40);
  const since = o.since === undefined ? undefined : str(o.since, at, 'since', 40);
  const error = strOrNull(o.error, at, 'error', 500);
  const out: ObservationOut = { peer, network, up, rttSeconds, clockOffsetSeconds, lastChecked, error };
  // An absent key (or undefined) stays absent in the output, as zod's optional does.
  if (since !== undefined) out.since = since;
  if (o.failure !== undefined) out.failure = o.failure === null ? null : oneOf<NonNullable<ObservationOut['failure']>>(o.failure, FAILURES, at, 'failure');
  return out;
}

function statusOf(v: unknown): LocalStatusAnswer {
  const s = obj(v, []);
  return {
    node: str(s.node, [], 'node', 253, 1),
    verdict: oneOf<LocalStatusAnswer['verdict']>(s.verdict, VERDICTS, [], 'verdict'),
    time: str(s.time, [], 'time', 40),
    probes: arr(s.probes, [], 'probes', 200).map((p, i) => probeOf(p, i)),
    peers: s.peers === undefined ? [] : arr(s.peers, [], 'peers', 2000).map(observationOf),
  };
}

/** A hand-written check as a WireSchema: a `Bad` thrown anywhere in it is the answer's one issue. */
export function handCheck<T>(check: (input: unknown) => T): WireSchema<T> {
  return {
    safeParse(input) {
      try {
        return { success: true, data: check(input) };
      } catch (err) {
        if (!(err instanceof Bad)) throw err;
        return { success: false, error: { issues: [{ path: err.path, message: err.message }] } };
      }
    },
  };
}

export const localStatusCheck: WireSchema<LocalStatusAnswer> = handCheck(statusOf);
