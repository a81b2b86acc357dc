import type { RequestHandler, Router } from 'express';
import type { Config } from '../config/schema.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Clock } from '../runner/clock.ts';
import type { LocalStatusWithPeers } from '../status/cluster-types.ts';
import type { LocalStatus } from '../status/local.ts';
import { peerRouter } from './api.ts';
import { readToken, requireToken, tokenMatches } from './auth.ts';
import { httpTransport, PeerClient, type PeerTransport } from './client.ts';
import { parsePeerAddress } from './config.ts';
import { PeerDirectory, type PeerRecord } from './directory.ts';
import { DnsDiscovery } from './dns.ts';
import { KubernetesDiscovery } from './kubernetes.ts';
import { kubeClientsFor } from '../k8s/shared.ts';
import { PeerMesh } from './mesh.ts';

export interface PeersDeps {
  config: Config;
  store: HistoryStore;
  status: LocalStatus;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** This agent's listening port, the pod port's default; known once the server listens. */
  ownPort: () => number;
  random?: () => number;
  /** How to reach peers; plain HTTP unless given (a TLS transport slots in here). */
  transport?: PeerTransport;
}

export interface Peers {
  directory: PeerDirectory;
  mesh: PeerMesh;
  router: Router;
  /** Guards the peer endpoints when a token is configured. */
  auth: RequestHandler | undefined;
  /** Whether an Authorization header carries the peer token (none configured: never). */
  tokenAccepted: (header: string | undefined) => boolean;
  localStatus: () => LocalStatusWithPeers;
  start(): void;
  stop(): Promise<void>;
}

export function staticRecords(config: Config['peers']): PeerRecord[] {
  return config.static.map((s) => {
    const pod = parsePeerAddress(s.pod)!;
    const host = s.host === undefined ? undefined : parsePeerAddress(s.host)!;
    return {
      node: s.node,
      podIP: pod.ip,
      ...(pod.port ? { podPort: pod.port } : {}),
      ...(host ? { hostIP: host.ip, ...(host.port ? { hostPort: host.port } : {}) } : {}),
    };
  });
}

/** Discovery, the peer loop and the peer API, wired from the `peers` config section. */
export async function createPeers(deps: PeersDeps): Promise<Peers> {
  const { config, clock, logger } = deps;
  const pc = config.peers;
  const log = logger.child({ component: 'peers' });
  const token = pc.tokenFile ? readToken(pc.tokenFile) : undefined;
  const client = new PeerClient({ transport: deps.transport ?? httpTransport(), token, maxBytes: pc.maxResponseBytes, clock });
  const directory = new PeerDirectory({ self: config.node.name, store: deps.store, now: () => clock.now(), logger: log, sources: pc.discovery });
  if (pc.discovery.includes('static')) directory.set('static', staticRecords(pc));
  const podPort = () => pc.podPort ?? deps.ownPort();
  const mesh = new PeerMesh({
    self: config.node.name,
    directory,
    client,
    clock,
    metrics: deps.metrics,
    logger: log,
    k: pc.k,
    interval: pc.interval,
    timeout: pc.timeout,
    get podPort() {
      return podPort();
    },
    hostPort: pc.hostPort,
    random: deps.random,
    clockOffsetThreshold: pc.clockOffsetThreshold,
    onTransition: (t) => {
      log.info({ peer: t.probe, from: t.from, to: t.to, reason: t.reason }, t.message);
      try {
        deps.store.append(t);
      } catch (err) {
        log.error({ err, peer: t.probe }, 'could not record a peer transition in the history');
      }
    },
  });
  const localStatus = (): LocalStatusWithPeers => ({ ...deps.status.snapshot(), peers: mesh.observations() });
  const dns = pc.discovery.includes('dns') && pc.dns.name ? new DnsDiscovery({ name: pc.dns.name, refresh: pc.dns.refresh, servers: pc.dns.servers, podPort, timeout: pc.timeout, client, directory, clock, logger: log }) : undefined;
  const kube = pc.discovery.includes('kubernetes')
    ? await KubernetesDiscovery.create({ clients: await kubeClientsFor(config), labelSelector: pc.kubernetes.labelSelector, directory, clock, logger: log })
    : undefined;
  const router = peerRouter({
    self: config.node.name,
    hostIP: config.node.hostIP,
    directory,
    client,
    localStatus,
    history: deps.store,
    now: () => clock.now(),
    logger: log,
    fanout: {
      get podPort() {
        return podPort();
      },
      hostPort: pc.hostPort,
      concurrency: pc.fanout.concurrency,
      timeoutMs: pc.fanout.timeout,
      clock,
    },
    clockOffsetThresholdSeconds: pc.clockOffsetThreshold / 1000,
    // a round of pings is at most an interval apart, plus its own timeout
    knownDownMaxAgeMs: 2 * pc.interval + pc.timeout,
  });
  return {
    directory,
    mesh,
    router,
    auth: token ? requireToken(token) : undefined,
    tokenAccepted: (header) => token !== undefined && tokenMatches(header, token),
    localStatus,
    start() {
      dns?.start();
      kube?.start();
      mesh.start();
    },
    async stop() {
      dns?.stop();
      kube?.stop();
      await mesh.stop();
      client.close();
    },
  };
}
