import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { HistoryStore } from '../history/store.ts';
import type { KubeClients } from '../k8s/client.ts';
import type { Logger } from '../log.ts';
import { peerMeshMetrics } from '../metrics/metrics.ts';
import type { PeerObservation } from '../status/cluster-types.ts';
import { readToken, requireToken, tokenMatches } from './auth.ts';
import { httpTransport, PeerClient, type PeerTransport } from './client.ts';
import { PeerDirectory, type PeerRecord } from './directory.ts';
import { DnsDiscovery } from './dns.ts';
import type { FanoutOptions } from './fanout.ts';
import { KubernetesDiscovery } from './kubernetes.ts';
import { PeerMesh } from './mesh.ts';

export interface PeersDeps {
  config: Config;
  store: HistoryStore;
  clock: Clock;
  logger: Logger;
  /** Where the mesh registers its metrics. */
  registry: Registry;
  /** This agent's listening port, the pod port's default; known once the server listens. */
  ownPort: () => number;
  /** How to reach peers; plain HTTP unless given (a TLS transport slots in here). */
  transport?: PeerTransport;
  /** The agent's Kubernetes clients, for discovery from the API. */
  kubernetes: () => Promise<KubeClients>;
}

export interface Peers {
  directory: PeerDirectory;
  client: PeerClient;
  /** This agent's share of the mesh and what it saw; absent when no discovery is configured. */
  mesh: PeerMesh | undefined;
  /** What this agent sees of its peers, for its local status. */
  observations: () => PeerObservation[];
  /** How the cluster endpoints fan out to peers. */
  fanout: Omit<FanoutOptions, 'client' | 'signal'>;
  /** Guards the peer endpoints when a token is configured. */
  auth: RequestHandler | undefined;
  /** Whether an Authorization header carries the peer token (none configured: never). */
  tokenAccepted: (header: string | undefined) => boolean;
  start(): void;
  stop(): void;
}

export function staticRecords(config: Config['peers']): PeerRecord[] {
  return config.static.map((s) => {
    const { pod, host } = s;
    return {
      node: s.node,
      podIP: pod.ip,
      ...(pod.port ? { podPort: pod.port } : {}),
      ...(host ? { hostIP: host.ip, ...(host.port ? { hostPort: host.port } : {}) } : {}),
    };
  });
}

/** Discovery, the peer client and the mesh, wired from the `peers` config section. */
export async function createPeers(deps: PeersDeps): Promise<Peers> {
  const { config, clock, logger } = deps;
  const pc = config.peers;
  const log = logger.child({ component: 'peers' });
  const token = pc.tokenFile ? readToken(pc.tokenFile) : undefined;
  const client = new PeerClient({ transport: deps.transport ?? httpTransport(), token, maxBytes: pc.maxResponseBytes, clock });
  const directory = new PeerDirectory({ self: config.node.name, store: deps.store, now: () => clock.now(), logger: log, sources: pc.discovery });
  if (pc.discovery.includes('static')) directory.set('static', staticRecords(pc));
  const podPort = () => pc.podPort ?? deps.ownPort();
  const mesh =
    pc.discovery.length > 0
      ? new PeerMesh({
          self: config.node.name,
          directory,
          client,
          clock,
          metrics: peerMeshMetrics(deps.registry),
          k: pc.k,
          timeout: pc.timeout,
          get podPort() {
            return podPort();
          },
          hostPort: pc.hostPort,
          clockOffsetThreshold: pc.clockOffsetThreshold,
          onTransition: (t) => {
            log.info({ peer: t.probe, from: t.from, to: t.to, reason: t.reason }, t.message);
            try {
              deps.store.append(t);
            } catch (err) {
              log.error({ err, peer: t.probe }, 'could not record a peer transition in the history');
            }
          },
        })
      : undefined;
  const dns = pc.discovery.includes('dns') && pc.dns.name ? new DnsDiscovery({ name: pc.dns.name, refresh: pc.dns.refresh, servers: pc.dns.servers, podPort, timeout: pc.timeout, client, directory, clock, logger: log }) : undefined;
  const kube = pc.discovery.includes('kubernetes') ? await KubernetesDiscovery.create({ clients: await deps.kubernetes(), labelSelector: pc.kubernetes.labelSelector, directory, clock, logger: log }) : undefined;
  return {
    directory,
    client,
    mesh,
    observations: () => mesh?.observations() ?? [],
    fanout: {
      get podPort() {
        return podPort();
      },
      hostPort: pc.hostPort,
      concurrency: pc.fanout.concurrency,
      timeoutMs: pc.fanout.timeout,
      clock,
    },
    auth: token ? requireToken(token) : undefined,
    tokenAccepted: (header) => token !== undefined && tokenMatches(header, token),
    start() {
      dns?.start();
      kube?.start();
    },
    stop() {
      dns?.stop();
      kube?.stop();
      client.close();
    },
  };
}
