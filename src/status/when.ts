/** Times as the causes carry them: the earliest of several, as RFC 3339. */

export const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** An RFC 3339 time as milliseconds since the epoch; null when absent or unreadable. */
export const millis = (t: string | null | undefined): number | null => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? null : ms;
};

export const earliest = (xs: Iterable<number | null | undefined>): number | null => {
  let m: number | null = null;
  for (const x of xs) if (typeof x === 'number' && (m === null || x < m)) m = x;
  return m;
};
export const earliestIso = (xs: Iterable<string | null | undefined>): string | null => {
  let m: string | null = null;
  for (const x of xs) if (typeof x === 'string' && (m === null || x < m)) m = x;
  return m;
};
