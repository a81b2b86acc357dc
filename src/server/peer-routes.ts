import express from 'express';
import type { ClusterHistoryPage } from '../history/api-types.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import { BadRequest, parseHistoryQuery } from './params.ts';
import { FULL_REACHABILITY_NODES, mergeCluster, type FanoutResult } from '../status/cluster.ts';
import type { ClusterStatus, LocalStatusWithPeers, PeerObservation } from '../status/cluster-types.ts';
import { decodeCursor, mergeHistory, type MergedCursor } from '../status/history-merge.ts';
import type { PeerClient } from '../peers/client.ts';
import type { PeerDirectory } from '../peers/directory.ts';
import { fanout, type FanoutOptions, type KnownDown } from '../peers/fanout.ts';
import { compactMember, MAX_RELAY_MEMBERS, type RelayAnswer, type RelayDetail } from '../peers/relay-wire.ts';
import { RelayMemory, relayedFanout, resultOf, type RelayReport } from '../peers/relays.ts';
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
  /** Above `above` nodes the cluster status is gathered through relays, one per group of about `groupSize`. Absent: always asked directly. */
  relays?: { above: number; groupSize: number };
}

/** What the cluster status carries beyond the default: `reachability` (every edge), `probes` (each probe's whole record, its figures included). */
export interface StatusDetail {
  reachability: boolean;
  probes: boolean;
  /** `?gather=direct` asks every peer from here, `?gather=relays` through relays, whatever the cluster's size; absent: by `relays.above`. */
  gather?: 'direct' | 'relays';
}

const DETAILS = ['reachability', 'probes'] as const;

export function parseStatusQuery(q: Record<string, unknown>): StatusDetail {
  for (const key of Object.keys(q)) if (key !== 'detail' && key !== 'gather') throw new BadRequest(`unknown parameter ${JSON.stringify(key.slice(0, 40))} (known: detail, gather)`);
  const out: StatusDetail = { reachability: false, probes: false };
  if (q.gather !== undefined) {
    if (q.gather !== 'direct' && q.gather !== 'relays') throw new BadRequest('gather: direct or relays');
    out.gather = q.gather;
  }
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

/** What a relay is asked for: its members, its deadline, what to keep. */
export interface RelayQuery {
  members: string[];
  timeoutMs: number;
  detail: RelayDetail;
}

const RELAY_DETAILS = ['messages', 'probes', 'reachability'] as const;

export function parseRelayQuery(q: Record<string, unknown>, maxTimeoutMs: number): RelayQuery {
  for (const key of Object.keys(q)) if (!['members', 'timeout', 'detail'].includes(key)) throw new BadRequest(`unknown parameter ${JSON.stringify(key.slice(0, 40))} (known: members, timeout, detail)`);
  if (typeof q.members !== 'string' || q.members === '') throw new BadRequest('members: give the nodes to ask, once, as a comma-separated list');
  const members = q.members.split(',');
  if (members.length > MAX_RELAY_MEMBERS) throw new BadRequest(`members: at most ${MAX_RELAY_MEMBERS} at once, got ${members.length}`);
  const seen = new Set<string>();
  for (const m of members) {
    if (m.length === 0 || m.length > 253) throw new BadRequest('members: each node name is 1 to 253 characters');
    if (seen.has(m)) throw new BadRequest(`members: ${JSON.stringify(m.slice(0, 60))} given twice`);
    seen.add(m);
  }
  const timeoutMs = typeof q.timeout === 'string' && /^\d{1,6}$/.test(q.timeout) ? Number(q.timeout) : NaN;
  if (!(timeoutMs >= 50 && timeoutMs <= maxTimeoutMs)) throw new BadRequest(`timeout: whole milliseconds from 50 to ${maxTimeoutMs} (this agent's fan-out deadline)`);
  const detail: RelayDetail = { messages: false, probes: false, reachability: false };
  if (q.detail !== undefined) {
    if (typeof q.detail !== 'string') throw new BadRequest('detail: give it once, as a comma-separated list');
    for (const d of q.detail.split(',').filter(Boolean)) {
      if (!(RELAY_DETAILS as readonly string[]).includes(d)) throw new BadRequest(`detail: unknown ${JSON.stringify(d.slice(0, 40))} (known: ${RELAY_DETAILS.join(', ')})`);
      detail[d as (typeof RELAY_DETAILS)[number]] = true;
    }
  }
  return { members, timeoutMs, detail };
}

/** This agent as a relay: the local statuses of the members it knows, asked within the asker's deadline. Members it does not know are left out, for the asker to ask another way. */
export async function relayStatus(o: Pick<PeerApiOptions, 'self' | 'client' | 'localStatus' | 'now' | 'fanout' | 'knownDownMaxAgeMs'> & { directory: Pick<PeerDirectory, 'get'> }, q: RelayQuery): Promise<RelayAnswer> {
  const own = o.localStatus();
  const down = knownDownFrom(own.peers, o.now(), o.knownDownMaxAgeMs ?? 0);
  const records = q.members.flatMap((m) => o.directory.get(m) ?? []);
  const fetched = await fanout(records, '/api/v1/status/local', localStatusCheck, { ...o.fanout, timeoutMs: q.timeoutMs, client: o.client, knownDown: (n) => down.get(n) });
  const members: RelayAnswer['members'] = [];
  // this agent's own status as a peer would get it: through the same check, which keeps the declared fields only
  const self = localStatusCheck.safeParse(own);
  if (q.members.includes(o.self) && self.success) members.push(compactMember(o.self, { ok: true, status: self.data }, q.detail));
  for (const [node, r] of fetched) members.push(compactMember(node, resultOf(node, r), q.detail));
  return { relay: o.self, members };
}

/** Asks every known peer for its local status, directly or through relays, and merges the answers with this node's own. */
export async function clusterStatus(o: PeerApiOptions, detail: StatusDetail = { reachability: false, probes: false }, memory = new RelayMemory()): Promise<ClusterStatus> {
  const peers = o.directory.list();
  const own = o.localStatus();
  const started = o.now();
  const down = knownDownFrom(own.peers, started, o.knownDownMaxAgeMs ?? 0);
  const nodes = [o.self, ...peers.map((p) => p.node)];
  const results = new Map<string, FanoutResult>([[o.self, { ok: true, status: own }]]);
  let relays: RelayReport | undefined;
  const relayed = detail.gather === undefined ? o.relays !== undefined && nodes.length > o.relays.above : detail.gather === 'relays';
  if (relayed) {
    const small = nodes.length <= FULL_REACHABILITY_NODES;
    const got = await relayedFanout(peers, {
      ...o.fanout,
      client: o.client,
      knownDown: (n) => down.get(n),
      groupSize: o.relays?.groupSize ?? 50,
      avoid: memory.avoid(started),
      detail: { messages: small || detail.probes, probes: detail.probes, reachability: small || detail.reachability },
    });
    relays = got.report;
    memory.remember(relays.failed, o.now());
    if (relays.foreign.length > 0) o.logger.warn({ foreign: relays.foreign.slice(0, 10), count: relays.foreign.length }, 'relays answered for nodes they were not asked about; those entries were dropped');
    for (const [node, r] of got.results) results.set(node, r);
  } else {
    // the merge reads the probes' figures (an etcd member's name, a pod's scheduling time); the answer carries them only with detail=probes
    const fetched = await fanout(peers, '/api/v1/status/local', localStatusCheck, { ...o.fanout, client: o.client, knownDown: (n) => down.get(n) });
    for (const [node, r] of fetched) results.set(node, resultOf(node, r));
  }
  return mergeCluster({ asker: o.self, time: o.now(), nodes, results, clockOffsetThresholdSeconds: o.clockOffsetThresholdSeconds, allEdges: detail.reachability, fullProbes: detail.probes, relays });
}

/** The peer endpoints besides the local ones: ping, the cluster status and the cluster history. */
export function peerRouter(o: PeerApiOptions): express.Router {
  const r = express.Router();
  r.get('/api/v1/ping', (_req, res) => {
    res.json({ node: o.self, time: o.now(), hostIP: o.hostIP ?? null });
  });
  // Requests that arrive while a fan-out is under way share it: N open status pages cost one round of N peers, not N rounds.
  const inFlight = new Map<string, Promise<ClusterStatus>>();
  const relayMemory = new RelayMemory();
  r.get('/api/v1/status', async (req, res) => {
    const detail = parseStatusQuery(req.query);
    const key = `${detail.reachability}/${detail.probes}/${detail.gather}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = clusterStatus(o, detail, relayMemory).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    res.json(await pending);
  });
  r.get('/api/v1/status/relay', async (req, res) => {
    res.json(await relayStatus(o, parseRelayQuery(req.query, o.fanout.timeoutMs)));
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
