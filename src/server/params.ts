import { parseDuration } from '../config/duration.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, type HistoryQuery } from '../history/store.ts';

/** A request parameter that cannot be used; answered with 400 and this message. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

type Query = Record<string, unknown>;

function single(q: Query, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${key}: give it once, as a plain value`);
  return v;
}

/** An RFC 3339 time, Unix seconds, or a duration back from now ("1h"). */
export function parseTime(key: string, text: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const t = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(t)) return t;
  throw new BadRequest(`${key}: expected an RFC 3339 time, Unix seconds or a duration such as 1h, got ${JSON.stringify(text.slice(0, 40))}`);
}

export function parseHistoryQuery(q: Query, now: number, extra: readonly string[] = []): HistoryQuery {
  const allowed = new Set(['since', 'until', 'probe', 'limit', 'cursor', ...extra]);
  for (const key of Object.keys(q)) if (!allowed.has(key)) throw new BadRequest(`unknown parameter ${JSON.stringify(key.slice(0, 40))} (known: ${[...allowed].join(', ')})`);
  const out: HistoryQuery = {};
  const since = single(q, 'since');
  const until = single(q, 'until');
  const probe = single(q, 'probe');
  const limit = single(q, 'limit');
  const cursor = single(q, 'cursor');
  if (since !== undefined) out.since = parseTime('since', since, now);
  if (until !== undefined) out.until = parseTime('until', until, now);
  if (probe !== undefined) {
    if (!/^(?:[a-z][a-z0-9-]{0,62}|peer\/[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/(?:pod|host))$/.test(probe)) {
      throw new BadRequest(`probe: expected a probe name or peer/<node>/<pod|host>, got ${JSON.stringify(probe.slice(0, 40))}`);
    }
    out.probe = probe;
  }
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new BadRequest(`limit: expected a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limit.slice(0, 40))}`);
    out.limit = n;
  } else out.limit = DEFAULT_LIMIT;
  if (cursor !== undefined) {
    const n = Number(cursor);
    if (!Number.isSafeInteger(n) || n < 1) throw new BadRequest(`cursor: expected the "next" value of a previous page, got ${JSON.stringify(cursor.slice(0, 40))}`);
    out.before = n;
  }
  if (out.since !== undefined && out.until !== undefined && out.since >= out.until) throw new BadRequest('since must be before until');
  return out;
}
