import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { HistoryStore } from '../../src/history/store.ts';
import { silentLogger } from '../../src/log.ts';
import { createApp } from '../../src/server/app.ts';
import { LocalStatus } from '../../src/status/local.ts';
import type { Cause, ClusterNode, ClusterStatus, Network, PeerObservation, ReachabilityEdge } from '../../src/status/cluster-types.ts';
import type { HistoryEvent } from '../../src/history/store.ts';
import type { ProbeStatus } from '../../src/status/local.ts';

/**
 * Hand-made cluster statuses in the shape of GET /api/v1/status, for developing and testing the
 * status page without a mesh: every node sees every other one unless it is down or on another
 * side of a partition.
 */
export interface FixtureOptions {
  nodes: string[];
  observer?: string;
  /** Nodes whose agents do not answer and that nobody reaches. */
  down?: string[];
  /** Groups that reach each other and not the rest. */
  partitions?: string[][];
  /** Per node, probe verdicts that are not ok: { b: { etcd: ['critical', 'put p50 412 ms > 100 ms'] } }. */
  failing?: Record<string, Record<string, [ProbeStatus['verdict'], string]>>;
  probes?: string[];
  time?: string;
  /** Peers each node pings (the next k by position, as a ring); default: all. */
  k?: number;
}

const probe = (name: string, verdict: ProbeStatus['verdict'], message: string, since: string): ProbeStatus => ({
  name,
  verdict,
  reason: verdict === 'ok' ? null : 'error',
  message,
  since,
  lastRun: since,
  durationSeconds: 0.012,
  skipped: false,
  observations: null,
});

export function fixtureCluster(o: FixtureOptions): ClusterStatus {
  const time = o.time ?? new Date().toISOString();
  const since = new Date(Date.parse(time) - 754_000).toISOString();
  const down = new Set(o.down ?? []);
  const side = (n: string) => (o.partitions ?? []).findIndex((g) => g.includes(n));
  const reaches = (a: string, b: string) => !down.has(b) && side(a) === side(b);
  const names = o.probes ?? ['node', 'etcd', 'pod-scheduling', 'dns'];
  const reachability: ReachabilityEdge[] = [];
  const k = Math.min(o.k ?? o.nodes.length - 1, o.nodes.length - 1);
  for (const [i, a] of o.nodes.entries()) {
    if (down.has(a)) continue;
    for (let step = 1; step <= k; step++) {
      const b = o.nodes[(i + step) % o.nodes.length]!;
      for (const network of ['pod', 'host'] as Network[]) reachability.push({ observer: a, peer: b, network, up: reaches(a, b), rttSeconds: reaches(a, b) ? 0.0004 : null });
    }
  }
  const observer = o.observer ?? o.nodes.find((n) => !down.has(n))!;
  const nodes: ClusterNode[] = o.nodes.map((name) => {
    const answered = (!down.has(name) && reaches(observer, name)) || name === observer;
    const probes = answered
      ? names.map((p) => {
          const f = o.failing?.[name]?.[p];
          return probe(p, f?.[0] ?? 'ok', f?.[1] ?? `${p} fine`, since);
        })
      : [];
    const unreachableFrom = { pod: [] as string[], host: [] as string[] };
    for (const a of o.nodes) if (a !== name && !down.has(a) && !reaches(a, name)) for (const k of ['pod', 'host'] as Network[]) unreachableFrom[k].push(a);
    const worst = probes.some((p) => p.verdict === 'critical') ? 'critical' : probes.some((p) => p.verdict === 'warning') ? 'warning' : 'ok';
    return { name, verdict: answered ? worst : 'unreachable', answered, error: answered ? null : 'timeout after 2000 ms', probes, unreachableFrom };
  });
  const causes: Cause[] = [];
  for (const n of down)
    causes.push({
      kind: 'node-down',
      severity: 'critical',
      nodes: [n],
      since: new Date(Date.parse(time) - 240_000).toISOString(),
      message: `node ${n} is down or isolated: unreachable from ${o.nodes.length - down.size} of ${o.nodes.length - down.size} observers on both networks`,
    });
  if (o.partitions?.length)
    causes.push({
      kind: 'partition',
      severity: 'critical',
      nodes: o.partitions.flat(),
      sides: o.partitions,
      since: null,
      message: `the network is partitioned: ${o.partitions.map((g) => `{${g.join(', ')}}`).join(' and ')} do not reach each other`,
    });
  for (const [node, probes] of Object.entries(o.failing ?? {})) {
    for (const [p, [verdict, message]] of Object.entries(probes))
      causes.push({ kind: 'probe-failing', severity: verdict === 'critical' ? 'critical' : 'warning', nodes: [node], probes: [p], since, message: `${p} is ${verdict} on ${node}: ${message}` });
  }
  const answered = nodes.filter((n) => n.answered).length;
  const completeness = { nodes: nodes.length, answered, unanswered: nodes.length - answered, oldestAnswerSeconds: 0, gathered: 'direct' as const };
  return { observer, time, verdict: causes.length ? 'degraded' : 'healthy', causes, completeness, nodes, probesShown: 'all', reachability, reachabilityShown: 'all', partitions: o.partitions ?? [] };
}

export function fixtureHistory(nodes: string[], now = Date.now()): (HistoryEvent & { node: string })[] {
  return nodes.flatMap((node, i) => [
    { id: 2 * i + 2, node, time: new Date(now - (i + 1) * 61_000).toISOString(), probe: 'etcd', from: 'ok', to: 'critical', reason: 'error', message: `etcd on ${node}: put timed out` },
    { id: 2 * i + 1, node, time: new Date(now - (i + 1) * 3_600_000).toISOString(), probe: 'node', from: 'unknown', to: 'ok', reason: null, message: 'filesystems and memory fine' },
  ]);
}

/** Routes that answer the cluster API from whatever `current()` returns, mounted into createApp. */
export function fixtureRouter(current: () => { status: ClusterStatus; history: (HistoryEvent & { node: string })[]; token?: string }): express.Router {
  const r = express.Router();
  // Like an agent with a peer token: the cluster API answers 401 without it.
  r.use(['/api/v1/status', '/api/v1/history'], (req, res, next) => {
    const token = current()?.token;
    if (token === undefined || req.headers.authorization === `Bearer ${token}`) next();
    else res.status(401).json({ error: 'this endpoint needs the shared peer token (Authorization: Bearer ...)' });
  });
  r.get('/api/v1/status', (_req, res) => {
    res.json(current().status);
  });
  r.get('/api/v1/history', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const events = current().history.filter((e) => (!q.node || e.node === q.node) && (!q.probe || e.probe === q.probe));
    res.json({ events, next: null });
  });
  return r;
}

/** A real agent HTTP app (local status, local history, the page) plus the fixture cluster API, on loopback port 0. */
export async function startFixtureServer(
  current: () => { status: ClusterStatus; history: (HistoryEvent & { node: string })[]; token?: string; peers?: PeerObservation[] },
  node = current().status.observer,
): Promise<{ url: string; close(): Promise<void> }> {
  const registry = new Registry();
  const status = new LocalStatus({ node, probes: ['node', 'etcd'], now: () => Date.now() });
  const history = new HistoryStore(':memory:');
  const app = createApp({ node, registry, status, history, logger: silentLogger(), now: () => Date.now(), ready: () => true, routers: [fixtureRouter(current)], localStatus: () => ({ ...status.snapshot(), peers: current()?.peers ?? [] }) });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        history.close();
      }),
  };
}
