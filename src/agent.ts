import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Registry } from './metrics/prom.ts';
import type { Config } from './config/schema.ts';
import { HistoryStore } from './history/store.ts';
import type { Logger } from './log.ts';
import type { PeerTransport } from './peers/client.ts';
import { httpsTransport } from './peers/tls-transport.ts';
import { createPeers, type Peers } from './peers/index.ts';
import { peerMeshProbe } from './peers/mesh-probe.ts';
import { longestTimeout } from './runner/jitter.ts';
import { createMetrics, peerTlsMetrics, type Metrics } from './metrics/metrics.ts';
import { lazyKubeClients } from './k8s/client.ts';
import { startNodeConditions } from './conditions/wiring.ts';
import { createProbe, type ProbeRegistry } from './probes/registry.ts';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { ProbeRunner, type ScheduledProbe } from './runner/runner.ts';
import { createApp } from './server/app.ts';
import { requestGuards } from './server/guards.ts';
import { REJECT_REASONS } from './server/limits.ts';
import { serve } from './server/listen.ts';
import { openWebConfig } from './server/web-config-source.ts';
import type { LocalStatusWithPeers } from './status/cluster-types.ts';
import { LocalStatus } from './status/local.ts';
import { peerRouter } from './server/peer-routes.ts';
import { revision, version } from './version.ts';

export interface AgentDeps {
  registry: ProbeRegistry;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  env?: Record<string, string | undefined>;
  /** How this agent talks to its peers; plain HTTP unless given (a TLS transport goes here). */
  peerTransport?: PeerTransport;
}

export interface Agent {
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  /** Whether the endpoints are served over TLS. */
  tls: boolean;
  metrics: Metrics;
  status: LocalStatus;
  history: HistoryStore;
  runner: ProbeRunner;
  peers: Peers;
  /** Graceful shutdown: finishes in-flight runs within the grace period, closes the server and the database. */
  stop(): Promise<void>;
}

const PURGE_EVERY_MS = 3_600_000;

/** Wires config into a running agent: store, metrics, probes, runner, peers, HTTP server. */
export async function startAgent(config: Config, deps: AgentDeps): Promise<Agent> {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  // Every part started is torn down here, in reverse: on a failed start as on stop().
  const teardown: { what: string; fn: () => Promise<void> | void }[] = [];
  const stopAll = async () => {
    for (const { what, fn } of teardown.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, `stopping the ${what} failed`);
      }
    }
  };
  try {
    const history = new HistoryStore(path.join(config.storage.path, 'history.db'));
    teardown.push({ what: 'history database', fn: () => history.close() });
    const metrics = createMetrics(new Registry());
    metrics.buildInfo.set({ version, revision: revision(deps.env), nodejs_version: process.version }, 1);
    schedulePurge(history, config.storage.retention, clock, logger, teardown);

    // One set of Kubernetes clients for every probe and the peer discovery, built on first use.
    const kubernetes = lazyKubeClients(config.kubernetes);
    const scheduled: ScheduledProbe[] = deps.registry.enabled(config).map((e) => ({
      probe: createProbe(e, { node: config.node, clock, logger: logger.child({ probe: e.definition.name }), registry: metrics.registry }, { kubernetes }),
      interval: e.common.interval,
      timeout: e.common.timeout,
      reasons: e.definition.reasons,
    }));

    const webConfig = openWebConfig(config.web.configFile, { logger, registry: metrics.registry, now: () => clock.now() });
    let port = 0;
    // Every agent runs the same web config: when it serves TLS, peers are reached over TLS.
    let reloadFailed = false;
    let tlsMetrics: ReturnType<typeof peerTlsMetrics> | undefined;
    const onReload = (err: unknown) => {
      tlsMetrics?.peerTlsReloadSuccessful.set(err === undefined ? 1 : 0);
      // once per failure: the files are tried again only once they change again
      if (err !== undefined && !reloadFailed) logger.error({ err, files: config.peers.tls }, 'the changed peer TLS files cannot be used; peers are reached with the previous ones');
      else if (err === undefined && reloadFailed) logger.info('the peer TLS files were reloaded');
      reloadFailed = err !== undefined;
    };
    if (!deps.peerTransport && webConfig?.current().tls) {
      tlsMetrics = peerTlsMetrics(metrics.registry);
      tlsMetrics.peerTlsReloadSuccessful.set(1);
    }
    const transport = deps.peerTransport ?? (tlsMetrics ? httpsTransport({ ...config.peers.tls, onReload }) : undefined);
    const peers = await createPeers({ config, store: history, clock, logger, registry: metrics.registry, ownPort: () => port, transport, kubernetes });
    teardown.push({ what: 'peer discovery', fn: () => peers.stop() });
    // The mesh's rounds run as a probe; pings have their own timeout (at most the round's), and a round may take until the next can start.
    if (peers.mesh) scheduled.push({ probe: peerMeshProbe(peers.mesh), interval: config.peers.interval, timeout: longestTimeout(config.peers.interval), reasons: [] });

    const status = new LocalStatus({
      node: config.node.name,
      probes: scheduled.map((p) => p.probe.name),
      now: () => clock.now(),
      onTransition: (t) => {
        logger.info({ probe: t.probe, from: t.from, to: t.to, reason: t.reason }, `${t.probe}: ${t.from} -> ${t.to}: ${t.message}`);
        try {
          history.append(t);
        } catch (err) {
          logger.error({ err, probe: t.probe }, 'could not record a transition in the history');
        }
      },
    });
    const conditions = config.kubernetes.nodeConditions ? startNodeConditions({ config, kubernetes, clock, logger: logger.child({ component: 'node-conditions' }), registry: metrics.registry, status, peers }) : undefined;
    if (conditions) teardown.push({ what: 'node condition writer', fn: () => conditions.stop() });
    const runner = new ProbeRunner({
      probes: scheduled,
      clock,
      metrics,
      logger,
      random: deps.random,
      onResult: (run) => {
        status.record(run);
        conditions?.observe(run);
      },
    });

    let ready = false;
    const { limits } = config.web;
    const onRejected = (reason: string) => metrics.httpRequestsRejected.inc({ reason });
    for (const reason of REJECT_REASONS) metrics.httpRequestsRejected.inc({ reason }, 0);
    const guards = requestGuards({ limits, webConfig, onRejected, onInFlight: (n) => metrics.httpRequestsInFlight.set(n), acceptAlso: (req) => peers.tokenAccepted(req.headers.authorization) });
    const localStatus = (): LocalStatusWithPeers => ({ ...status.snapshot(), peers: peers.observations() });
    const peerApi = peerRouter({
      self: config.node.name,
      hostIP: config.node.hostIP,
      directory: peers.directory,
      client: peers.client,
      localStatus,
      history,
      now: () => clock.now(),
      logger: logger.child({ component: 'peers' }),
      fanout: peers.fanout,
      relays: { above: config.peers.fanout.relayAbove, groupSize: config.peers.fanout.groupSize },
      clockOffsetThresholdSeconds: config.peers.clockOffsetThreshold / 1000,
      // a round of pings is at most an interval apart, plus its own timeout
      knownDownMaxAgeMs: 2 * config.peers.interval + config.peers.timeout,
    });
    const app = createApp({ node: config.node.name, registry: metrics.registry, status, history, logger, now: () => clock.now(), ready: () => ready, guards, routers: [peerApi], peerAuth: peers.auth, localStatus });
    const server = await serve({ app, listenAddress: config.web.listenAddress, limits, webConfig, logger, onRejected });
    teardown.push({
      what: 'HTTP server',
      fn: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          const t = clock.setTimeout(() => server.closeAllConnections(), 1000);
          server.once('close', () => clock.clearTimeout(t));
        }),
    });
    // Stopped first: in-flight runs finish within the grace period while the server still answers,
    // then every probe is closed, before the peer client and the database go.
    teardown.push({ what: 'probe runner', fn: () => runner.stop(config.shutdown.gracePeriod) });
    const tls = Boolean(webConfig?.current().tls);
    port = (server.address() as AddressInfo).port;
    const listen = config.web.listenAddress;
    const host = listen.host === undefined || listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    runner.start();
    peers.start();
    ready = true;
    logger.info({ address: config.web.listenAddress.text, port, probes: runner.names, storage: history.path }, 'vigil agent started');

    let stopping: Promise<void> | undefined;
    return {
      url: `${tls ? 'https' : 'http'}://${host}:${port}`,
      port,
      tls,
      metrics,
      status,
      history,
      runner,
      peers,
      stop: () =>
        (stopping ??= (async () => {
          ready = false;
          await stopAll();
          logger.info('vigil agent stopped');
        })()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Deletes history past the retention now and every hour. */
function schedulePurge(history: HistoryStore, retention: number, clock: Clock, logger: Logger, teardown: { what: string; fn: () => void }[]): void {
  let timer: TimerHandle | undefined;
  const purge = () => {
    try {
      const n = history.purge(clock.now() - retention);
      if (n > 0) logger.info({ deleted: n }, 'purged history past the retention');
    } catch (err) {
      logger.error({ err }, 'purging history failed');
    }
    timer = clock.setTimeout(purge, PURGE_EVERY_MS);
  };
  purge();
  teardown.push({ what: 'history purge', fn: () => timer && clock.clearTimeout(timer) });
}
