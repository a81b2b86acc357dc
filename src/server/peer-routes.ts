import express from 'express';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import { BadRequest, parseHistoryQuery } from './params.ts';
import { mergeCluster, type FanoutResult } from '../status/cluster.ts';
import type { ClusterStatus, LocalStatusWithPeers } from '../status/cluster-types.ts';
import { decodeCursor, mergeHistory, type MergedCursor } from '../status/history-merge.ts';
import type { PeerClient } from '../peers/client.ts';
import type { PeerDirectory } from '../peers/directory.ts';
import { fanout, type FanoutOptions } from '../peers/fanout.ts';
import { historyAnswer, localStatusAnswer } from '../peers/wire.ts';

export interface PeerApiOptions {
  self: string;
  hostIP?: string;
  directory: PeerDirectory;
  client: PeerClient;
  localStatus: () => LocalStatusWithPeers;
  history: HistoryStore;
  now: () => number;
  logger: Logger;
  fanout: Omit<FanoutOptions, 'client' | 'signal'>;
  clockOffsetThresholdSeconds: number;
}

/** Asks every known peer for its local status and merges the answers with this node's own. */
export async function clusterStatus(o: PeerApiOptions): Promise<ClusterStatus> {
  const peers = o.directory.list();
  const fetched = await fanout(peers, '/api/v1/status/local', localStatusAnswer, { ...o.fanout, client: o.client });
  const results = new Map<string, FanoutResult>([[o.self, { ok: true, status: o.localStatus() }]]);
  for (const [node, r] of fetched) {
    if (r.ok && r.value.node !== node) results.set(node, { ok: false, failure: 'bad', error: `answered as node "${r.value.node.slice(0, 60)}"` });
    else results.set(node, r.ok ? { ok: true, status: r.value } : r);
  }
  return mergeCluster({ asker: o.self, time: o.now(), nodes: [o.self, ...peers.map((p) => p.node)], results, clockOffsetThresholdSeconds: o.clockOffsetThresholdSeconds });
}

/** The peer endpoints besides the local ones: ping, the cluster status and the cluster history. */
export function peerRouter(o: PeerApiOptions): express.Router {
  const r = express.Router();
  r.get('/api/v1/ping', (_req, res) => {
    res.json({ node: o.self, time: o.now(), hostIP: o.hostIP ?? null });
  });
  // Requests that arrive while a fan-out is under way share it: N open status pages cost one round of N peers, not N rounds.
  let inFlight: Promise<ClusterStatus> | undefined;
  r.get('/api/v1/status', async (_req, res) => {
    inFlight ??= clusterStatus(o).finally(() => (inFlight = undefined));
    res.json(await inFlight);
  });
  r.get('/api/v1/history', async (req, res) => {
    const query = { ...(req.query as Record<string, unknown>) };
    const cursorText = query.cursor;
    delete query.cursor;
    const q = parseHistoryQuery(query, o.now(), ['node']);
    let cursor: MergedCursor = {};
    if (cursorText !== undefined) {
      const c = typeof cursorText === 'string' ? decodeCursor(cursorText) : undefined;
      if (!c) throw new BadRequest('cursor: expected the "next" value of a previous page');
      cursor = c;
    }
    const wanted = typeof query.node === 'string' ? new Set(query.node.split(',').filter(Boolean)) : undefined;
    const include = (n: string) => (!wanted || wanted.has(n)) && cursor[n] !== null;
    const pages = new Map<string, { events: ReturnType<HistoryStore['query']>['events']; next: string | null }>();
    const errors: { node: string; error: string }[] = [];
    if (include(o.self)) {
      const page = o.history.query({ ...q, before: cursor[o.self] ?? undefined });
      pages.set(o.self, { events: page.events, next: page.next === null ? null : String(page.next) });
    }
    const peers = o.directory.list().filter((p) => include(p.node));
    const params = (node: string) => {
      const s = new URLSearchParams();
      if (q.since !== undefined) s.set('since', String(q.since / 1000));
      if (q.until !== undefined) s.set('until', String(q.until / 1000));
      if (q.probe !== undefined) s.set('probe', q.probe);
      s.set('limit', String(q.limit));
      const before = cursor[node];
      if (typeof before === 'number') s.set('cursor', String(before));
      return s.toString();
    };
    const fetched = await fanout(peers, (p) => `/api/v1/history/local?${params(p.node)}`, historyAnswer, { ...o.fanout, client: o.client });
    for (const [node, r] of fetched) {
      if (r.ok) pages.set(node, { events: r.value.events, next: r.value.next });
      else errors.push({ node, error: r.error });
    }
    const merged = mergeHistory(pages, q.limit ?? 100, cursor);
    res.json({ events: merged.events, next: merged.next, errors });
  });
  return r;
}
