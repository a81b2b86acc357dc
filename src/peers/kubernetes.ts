import type { Informer, ObjectCache, V1Pod, Watch } from '@kubernetes/client-node';
import type { KubeClients } from '../k8s/client.ts';
import type { Logger } from '../log.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { PeerDirectory, PeerRecord } from './directory.ts';
import { byCodeUnit } from '../compare.ts';
import { Backoff } from '../backoff.ts';

/**
 * The agents' own DaemonSet pods as peers: one per node, the running one with an IP, the newest
 * when a rollout briefly gives a node two. Pure.
 */
export function podsToPeers(pods: readonly V1Pod[]): PeerRecord[] {
  const byNode = new Map<string, V1Pod>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node || !p.status?.podIP || p.metadata?.deletionTimestamp || p.status.phase === 'Succeeded' || p.status.phase === 'Failed') continue;
    const cur = byNode.get(node);
    const rank = (x: V1Pod) => `${x.status?.phase === 'Running' ? 1 : 0}${new Date(x.metadata?.creationTimestamp ?? 0).toISOString()}`;
    if (!cur || rank(p) > rank(cur)) byNode.set(node, p);
  }
  return [...byNode].map(([node, p]) => ({ node, podIP: p.status!.podIP!, ...(p.status!.hostIP ? { hostIP: p.status!.hostIP } : {}) })).sort((a, b) => byCodeUnit(a.node, b.node));
}

/**
 * Cuts a Pod down, in place, to the fields discovery reads (and the informer needs to track it):
 * the informer caches every object it is given, and a whole Pod is about 15 KiB — 15 MiB at
 * 1,000 nodes, for three addresses per node.
 */
export function slimPod(p: V1Pod): V1Pod {
  const m = p.metadata ?? {};
  p.metadata = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp, deletionTimestamp: m.deletionTimestamp };
  p.spec = { nodeName: p.spec?.nodeName, containers: [] };
  p.status = { phase: p.status?.phase, podIP: p.status?.podIP, hostIP: p.status?.hostIP };
  delete p.apiVersion;
  delete p.kind;
  return p;
}

export interface KubernetesDiscoveryOptions {
  clients: KubeClients;
  labelSelector: string;
  directory: PeerDirectory;
  clock: Clock;
  logger: Logger;
  /** The first wait before listing again after the watch failed (the API server is down, say); default 5 s. */
  retryMs?: number;
  /** The retry after each further failure waits twice as long, up to this (default 60 s). */
  maxRetryMs?: number;
  /**
   * How long each watch asks to last, a random time from the first to the second (seconds; default
   * 300 to 600, as client-go's reflector). The agent, not the server, then decides when it ends.
   */
  watchTimeoutSeconds?: readonly [number, number];
}

/** client-go's reflector: minWatchTimeout 5 min, each watch a random time up to twice that. */
const WATCH_TIMEOUT_SECONDS = [300, 600] as const;

/**
 * List+watch of the DaemonSet's pods. While the API server is away the informer fails and is
 * restarted after a pause; the directory keeps (and has persisted) the last list meanwhile.
 */
export class KubernetesDiscovery {
  readonly #opts: KubernetesDiscoveryOptions;
  readonly #informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #failing = false;
  /** Every agent of the cluster retries: at 5,000 nodes a fixed 5 s would be 1,000 lists a second at an API server coming back. */
  readonly #backoff: Backoff;
  #pending = false;

  /** Loads the client library only when Kubernetes discovery is configured. */
  static async create(opts: KubernetesDiscoveryOptions): Promise<KubernetesDiscovery> {
    const { ListWatch } = await import('@kubernetes/client-node');
    return new KubernetesDiscovery(opts, ListWatch);
  }

  private constructor(opts: KubernetesDiscoveryOptions, ListWatch: typeof import('@kubernetes/client-node').ListWatch) {
    this.#opts = opts;
    this.#backoff = new Backoff(opts.retryMs ?? 5000, opts.maxRetryMs ?? 60_000);
    const { core, namespace } = opts.clients;
    const list = async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: opts.labelSelector });
      pods.items.forEach(slimPod);
      if (this.#failing) this.#opts.logger.info('Kubernetes peer discovery is back');
      this.#failing = false;
      this.#backoff.reset();
      // the informer takes the items in after this resolves; publish once it has
      this.#publishSoon();
      return pods;
    };
    // Each watch asks for bookmarks and ends itself after a while, as client-go's reflector does.
    // A watch left to the server's own timeout ends after 30 to 60 minutes, and the informer opens
    // the next from the last resourceVersion it saw: on a quiet selector that version has long left
    // the watch cache (other pods' events push it out), so the server answers 410 and every agent
    // lists every agent's pod again. Bookmarks carry the cache's current version to the informer,
    // so the next watch starts where the cache still is.
    const [min, max] = opts.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS;
    const watch: Pick<Watch, 'watch'> = {
      watch: (path, query, callback, done) => opts.clients.watch.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds: Math.floor(min + Math.random() * (max - min)) }, callback, done),
    };
    this.#informer = new ListWatch(`/api/v1/namespaces/${namespace}/pods`, watch as Watch, list, false, opts.labelSelector);
    const publish = () => this.#publishSoon();
    // the informer has just cached the watched object itself: slimming it here slims the cache
    const slim = (p: V1Pod) => {
      slimPod(p);
      publish();
    };
    this.#informer.on('add', slim);
    this.#informer.on('update', slim);
    this.#informer.on('delete', publish);
    this.#informer.on('error', (err) => {
      if (this.#stopped) return;
      if (!this.#failing) this.#opts.logger.warn({ err }, 'Kubernetes peer discovery failed; keeping the last known peers and retrying');
      this.#failing = true;
      this.#retry();
    });
  }

  /** Coalesces a burst of events (a list of 1000 pods is 1000 adds) into one update. */
  #publishSoon(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      this.#publish();
    });
  }

  #publish(): void {
    if (this.#stopped) return;
    this.#opts.directory.set('kubernetes', podsToPeers(this.#informer.list()));
  }

  #retry(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      this.start();
    }, this.#backoff.next());
  }

  start(): void {
    if (this.#stopped) return;
    this.#informer.start().catch((err: unknown) => {
      if (!this.#failing) this.#opts.logger.warn({ err }, "cannot list the agents' pods; keeping the last known peers and retrying");
      this.#failing = true;
      this.#retry();
    });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    void this.#informer.stop().catch(() => undefined);
  }
}
