import type { HistoryEvent, NodeEvent } from '../history/api-types.ts';
import { byCodeUnit } from '../compare.ts';

export type { NodeEvent };

/** Per node: the id to continue before, null once its events are all delivered; absent: from the newest. */
export type MergedCursor = Record<string, number | null>;

export function encodeCursor(c: MergedCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** Undefined when the text is not a cursor this API handed out. */
export function decodeCursor(text: string): MergedCursor | undefined {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    for (const x of Object.values(v)) if (x !== null && !(Number.isSafeInteger(x) && (x as number) > 0)) return undefined;
    return v as MergedCursor;
  } catch {
    return undefined;
  }
}

/**
 * Merges one page from each node into one page of the cluster's timeline, newest first, and the
 * cursor that continues it: each node resumes after the last of its events that made the page.
 */
export function mergeHistory(pages: ReadonlyMap<string, { events: HistoryEvent[]; next: string | null }>, limit: number, cursor: MergedCursor): { events: NodeEvent[]; next: string | null } {
  const all: NodeEvent[] = [];
  for (const [node, page] of pages) for (const e of page.events) all.push({ node, ...e });
  all.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : byCodeUnit(a.node, b.node) || b.id - a.id));
  const events = all.slice(0, limit);
  const next: MergedCursor = { ...cursor };
  for (const [node, page] of pages) {
    const taken = events.filter((e) => e.node === node);
    const allTaken = taken.length === page.events.length;
    if (allTaken && page.next === null) next[node] = null;
    else if (taken.length > 0) next[node] = taken.at(-1)!.id;
  }
  const more = Object.keys(next).some((n) => next[n] !== null) || [...pages.keys()].some((n) => !(n in next));
  return { events, next: more ? encodeCursor(next) : null };
}
