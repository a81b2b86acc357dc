import express from 'express';
import type { ClusterHistoryPage } from '../history/api-types.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import { BadRequest, parseHistoryQuery } from './params.ts';
import { mergeCluster, type FanoutResult } from '../status/cluster.ts';
import type { ClusterStatus, LocalStatusWithPeers, PeerObservation } from '../status/cluster-types.ts';
import { decodeCursor, mergeHistory, type MergedCursor } from '../status/history-merge.ts';
import type { PeerClient } from '../peers/client.ts';
import type { PeerDirectory } from '../peers/directory.ts';
import { fanout, type FanoutOptions, type KnownDown } from '../peers/fanout.ts';
import { historyAnswer } from '../peers/wire.ts';
import { localStatusCheck } from '../peers/status-check.ts';

export interface PeerApiOptions {
  self: string;
  hostIP?: string;
  directory: PeerDirectory;
  client: PeerClient;
  localStatus: () => LocalStatusWithPeers;
  history: HistoryStore;
  now: () => number;
  logger: Logger;
  fanout: Omit<FanoutOptions, 'client' | 'signal' | 'knownDown'>;
  clockOffsetThresholdSeconds: number;
  /** How old this agent's own observation of a peer may be and still spare asking it. */
  knownDownMaxAgeMs?: number;
}

/** What the cluster status carries beyond the default: `reachability` (every edge), `probes` (each probe's whole record, its figures included). */
export interface StatusDetail {
  reachability: boolean;
  probes: boolean;
}

const DETAILS = ['reachability', 'probes'] as const;

export function parseStatusQuery(q: Record<string, unknown>): StatusDetail {
  for (const key of Object.keys(q)) if (key !== 'detail') throw new BadRequest(`unknown parameter ${JSON.stringify(key.slice(0, 40))} (known: detail)`);
  const out: StatusDetail = { reachability: false, probes: false };
  if (q.detail === undefined) return out;
  if (typeof q.detail !== 'string') throw new BadRequest('detail: give it once, as a comma-separated list');
  for (const d of q.detail.split(',').filter(Boolean)) {
    if (!(DETAILS as readonly string[]).includes(d)) throw new BadRequest(`detail: unknown ${JSON.stringify(d.slice(0, 40))} (known: ${DETAILS.join(', ')})`);
    out[d as (typeof DETAILS)[number]] = true;
  }
  return out;
}

/**
 * Peers that this agent's own pings find down on every network they have, as of at most maxAgeMs
 * ago: the fan-out answers for them from that instead of waiting out the deadline. Pure.
 */
export function knownDownFrom(observations: readonly PeerObservation[], now: number, maxAgeMs: number): Map<string, KnownDown> {
  const byPeer = new Map<string, PeerObservation[]>();
  for (const o of observations) (byPeer.get(o.peer) ?? byPeer.set(o.peer, []).get(o.peer)!).push(o);
  const out = new Map<string, KnownDown>();
  for (const [peer, obs] of byPeer) {
    if (obs.some((o) => o.up || now - Date.parse(o.lastChecked) > maxAgeMs)) continue;
    const first = obs.find((o) => o.network === 'pod') ?? obs[0]!;
    const since = obs.map((o) => o.since ?? o.lastChecked).sort()[obs.length - 1]!;
    out.set(peer, { failure: first.failure ?? 'unreachable', error: first.error ?? 'down', since });
  }
  return out;
}

/** Asks every known peer for its local status and merges the answers with this node's own. */
export async function clusterStatus(o: PeerApiOptions, detail: StatusDetail = { reachability: false, probes: false }): Promise<ClusterStatus> {
  const peers = o.directory.list();
  const own = o.localStatus();
  const down = knownDownFrom(own.peers, o.now(), o.knownDownMaxAgeMs ?? 0);
  // the merge reads the probes' figures (an etcd member's name, a pod's scheduling time); the answer carries them only with detail=probes
  const fetched = await fanout(peers, '/api/v1/status/local', localStatusCheck, { ...o.fanout, client: o.client, knownDown: (n) => down.get(n) });
  const results = new Map<string, FanoutResult>([[o.self, { ok: true, status: own }]]);
  for (const [node, r] of fetched) {
    if (r.ok && r.value.node !== node) results.set(node, { ok: false, failure: 'bad', error: `answered as node "${r.value.node.slice(0, 60)}"` });
    else results.set(node, r.ok ? { ok: true, status: r.value } : r);
  }
  return mergeCluster({ asker: o.self, time: o.now(), nodes: [o.self, ...peers.map((p) => p.node)], results, clockOffsetThresholdSeconds: o.clockOffsetThresholdSeconds, allEdges: detail.reachability, fullProbes: detail.probes });
}

/** The peer endpoints besides the local ones: ping, the cluster status and the cluster history. */
export function peerRouter(o: PeerApiOptions): express.Router {
  const r = express.Router();
  r.get('/api/v1/ping', (_req, res) => {
    res.json({ node: o.self, time: o.now(), hostIP: o.hostIP ?? null });
  });
  // Requests that arrive while a fan-out is under way share it: N open status pages cost one round of N peers, not N rounds.
  const inFlight = new Map<string, Promise<ClusterStatus>>();
  r.get('/api/v1/status', async (req, res) => {
    const detail = parseStatusQuery(req.query);
    const key = `${detail.reachability}/${detail.probes}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = clusterStatus(o, detail).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    res.json(await pending);
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
    res.json({ events: merged.events, next: merged.next, errors } satisfies ClusterHistoryPage);
  });
  return r;
}
