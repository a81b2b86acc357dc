import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin.ts';
import { defaultAdmission, type AdmissionSettings } from './admission.ts';
import { Behaviours, type NodeBehaviour } from './behaviour.ts';
import { ControlPlaneSim, HealthSim, type HealthEndpoint, type LeaderElectionTiming } from './control-plane.ts';
import { StatusError, badRequest, initializing, internalError, notYetReady, unauthorized } from './errors.ts';
import { ApiFaults } from './faults.ts';
import { KubeletSim } from './kubelet.ts';
import { handleResource, parseResourcePath, verbOf } from './rest.ts';
import { SchedulerSim } from './scheduler.ts';
import { RESOURCES, Store, refOf } from './store.ts';
import { WatchHub, type WatchEvent } from './watch-hub.ts';

export interface ApiSimOptions {
  /** Node names to create (Ready, schedulable). */
  nodes?: string[];
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The bearer token clients must present; others get 401. */
  token?: string;
  /** The user that token authenticates as, named in 403 messages. */
  user?: string;
  leaseRenewIntervalMs?: number;
  /** The control-plane components' leader-election timing (default: their flags' defaults, 15 s leases). */
  leaderElection?: Partial<LeaderElectionTiming>;
  /** Every node's scheduler and kubelet behaviour at start and after reset() (default: a real kubelet's deletion confirmation time, no other delays). */
  behaviour?: Partial<NodeBehaviour>;
  /**
   * kube-apiserver's --min-request-timeout (default 1800 s): a watch that sets no timeoutSeconds is
   * ended by the server after a random time between this and twice this (handlers/get.go ListResource).
   */
  minRequestTimeoutMs?: number;
  /** eventFreshDuration: how far back a busy watch cache's history reaches at least (75 s unless set; see Store). */
  watchHistoryMs?: number;
  /** Between two bookmarks on a watch that asked for them (1 s unless set; a real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** How long before a watch's deadline its last bookmark comes (a real server: 2 s; none on a watch shorter than that). */
  bookmarkBeforeDeadlineMs?: number;
  /** Serve HTTPS with this certificate and key (PEM files), as every real API server does; absent: plain HTTP. */
  tls?: { certFile: string; keyFile: string };
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: string;
  verb?: string;
  resource?: string;
  /** `status` for nodes/status. */
  subresource?: string;
  namespace?: string;
  name?: string;
  code: number;
  /** Response bytes written, the whole stream for a watch. */
  bytes: number;
  /** Request body bytes. */
  requestBytes: number;
}

export const DEFAULT_TOKEN = 'vigil-sim-token';
export const DEFAULT_USER = 'system:serviceaccount:vigil:vigil';

/** apiserver/pkg/admission/handler.go timeToWaitForReady: how long an admission plugin waits for its informers. */
const ADMISSION_READY_WAIT_MS = 10_000;

/** An HTTP(S) server speaking the part of the Kubernetes API vigil uses, with a simulated scheduler and kubelets. */
export class ApiSim {
  readonly store: Store;
  readonly hub: WatchHub;
  readonly behaviours: Behaviours;
  readonly faults = new ApiFaults();
  readonly health = new HealthSim();
  /** Namespaces, PriorityClasses, quotas and PodSecurity levels pod creates must pass. */
  admission: AdmissionSettings = defaultAdmission();
  readonly controlPlane: ControlPlaneSim;
  readonly requests: RecordedRequest[] = [];
  readonly #scheduler: SchedulerSim;
  readonly #kubelet: KubeletSim;
  readonly #opts: Required<Omit<ApiSimOptions, 'nodes' | 'behaviour' | 'tls' | 'leaderElection'>>;
  readonly #tls: { cert: Buffer; key: Buffer } | undefined;
  /** The bearer tokens the server accepts now. */
  readonly #tokens = new Set<string>();
  /** Ends each open watch response, as the API server does when a watch times out. */
  readonly #watchEnds = new Set<() => void>();
  #server: Server | undefined;
  #port = 0;
  /** Until then (ms since the epoch), the watch cache is initializing after a restart. */
  #initializingUntil = 0;
  /** The restarted watch cache has yet to take its starting list. */
  #cacheStarting = false;
  /** Until then (ms since the epoch), the admission plugins' informers have not synced after a restart. */
  #admissionNotReadyUntil = 0;
  /** How long a request waits for admission to be ready before its 403 (a real one: 10 s). */
  #admissionWaitMs = ADMISSION_READY_WAIT_MS;

  private constructor(opts: ApiSimOptions) {
    this.#opts = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      token: opts.token ?? DEFAULT_TOKEN,
      user: opts.user ?? DEFAULT_USER,
      leaseRenewIntervalMs: opts.leaseRenewIntervalMs ?? 2000,
      minRequestTimeoutMs: opts.minRequestTimeoutMs ?? 1_800_000,
      watchHistoryMs: opts.watchHistoryMs ?? 75_000,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
      bookmarkBeforeDeadlineMs: opts.bookmarkBeforeDeadlineMs ?? 2000,
    };
    this.#tokens.add(this.#opts.token);
    this.#tls = opts.tls ? { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) } : undefined;
    this.store = new Store({ historyMs: this.#opts.watchHistoryMs });
    this.hub = new WatchHub(this.store);
    this.behaviours = new Behaviours(opts.behaviour);
    this.#scheduler = new SchedulerSim(this.store, this.behaviours);
    this.#kubelet = new KubeletSim(this.store, this.behaviours);
    this.controlPlane = new ControlPlaneSim(this.store, { renewIntervalMs: this.#opts.leaseRenewIntervalMs, ...(opts.leaderElection ? { leaderElection: opts.leaderElection } : {}) });
    for (const n of opts.nodes ?? []) this.addNode(n);
  }

  static async start(opts: ApiSimOptions = {}): Promise<ApiSim> {
    const sim = new ApiSim(opts);
    await sim.resume();
    return sim;
  }

  get url(): string {
    return `${this.#tls ? 'https' : 'http'}://${this.#opts.host.includes(':') ? `[${this.#opts.host}]` : this.#opts.host}:${this.#port}`;
  }

  /** The newest token the server accepts (the one a client should be given). */
  get token(): string {
    return [...this.#tokens].at(-1) ?? this.#opts.token;
  }

  /**
   * A rotated service-account token: `next` is accepted from now on, beside the tokens already
   * valid (a projected token stays valid until it expires, after the kubelet has written its successor).
   */
  addToken(next: string): void {
    this.#tokens.add(next);
  }

  /** A token that expired: from now on it is a 401. */
  expireToken(token: string): void {
    this.#tokens.delete(token);
  }

  addNode(name: string): void {
    const i = this.store.list('nodes').length + 1;
    this.store.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
        addresses: [
          { type: 'InternalIP', address: `198.18.0.${i}` },
          { type: 'Hostname', address: name },
        ],
      },
    });
  }

  /** kubectl cordon / uncordon. */
  cordon(name: string, unschedulable = true): void {
    this.store.update('nodes', undefined, name, (n) => {
      n.spec = { ...n.spec, unschedulable: unschedulable || undefined };
      if (!unschedulable) delete n.spec.unschedulable;
    });
  }

  /** Clears faults, behaviours and failing health checks; objects stay. */
  reset(): void {
    this.faults.set({ latencyMs: 0, errorBurst: { count: 0, code: 500 }, denials: [], rbac: undefined, policies: undefined });
    this.behaviours.reset();
    this.health.failing = { livez: [], readyz: [], healthz: [] };
    this.health.reasons = {};
    this.admission = defaultAdmission();
    this.#initializingUntil = 0;
    this.#cacheStarting = false;
    this.#admissionNotReadyUntil = 0;
  }

  state(): unknown {
    return {
      resourceVersion: this.store.resourceVersion,
      nodes: this.store.list('nodes').map((n) => ({ name: n.metadata.name, unschedulable: Boolean(n.spec?.unschedulable) })),
      pods: this.store.list('pods').map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name, node: p.spec?.nodeName, phase: p.status?.phase, terminating: Boolean(p.metadata.deletionTimestamp) })),
      faults: this.faults.settings,
      health: this.health.failing,
      watches: this.hub.count,
    };
  }

  /** Ends every open watch stream cleanly; clients re-watch from their last resourceVersion. */
  closeWatches(): number {
    const n = this.#watchEnds.size;
    for (const end of [...this.#watchEnds]) end();
    return n;
  }

  /**
   * An API server restart as a client sees it (one replica of a rolling upgrade): open watches
   * end, the new watch cache starts from the current resourceVersion (older ones get 410), and
   * for `initializingMs` watches and lists get 429 "storage is (re)initializing" with
   * Retry-After, but for lists with a limit and no selector. Other requests are served (from
   * etcd). For `admissionNotReadyMs` (default 0) the admission plugins' informers have not synced:
   * a create in a namespace waits for them up to `admissionWaitMs` (10 s, as a real one) and, if
   * they are still not ready, gets 403 "not yet ready to handle request". Returns the number of
   * watches closed.
   */
  restart(opts: { initializingMs?: number; admissionNotReadyMs?: number; admissionWaitMs?: number } = {}): number {
    this.#initializingUntil = Date.now() + (opts.initializingMs ?? 3000);
    this.#admissionNotReadyUntil = Date.now() + (opts.admissionNotReadyMs ?? 0);
    this.#admissionWaitMs = opts.admissionWaitMs ?? ADMISSION_READY_WAIT_MS;
    this.#cacheStarting = true;
    this.store.compact();
    return this.closeWatches();
  }

  /** Ends a restart's initializing window now: the watch cache is ready. */
  finishInitializing(): void {
    this.#initializingUntil = 0;
  }

  /**
   * Stops listening (an API outage) and cuts open connections; state and simulation carry on, but
   * the control plane's leaders cannot renew their leases (see ControlPlaneSim).
   */
  async suspend(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = undefined;
    this.controlPlane.apiDown();
    this.hub.closeAll();
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Listens again, on the same port once one was chosen. */
  async resume(): Promise<void> {
    if (this.#server) return;
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const server = this.#tls ? createHttpsServer({ cert: this.#tls.cert, key: this.#tls.key }, handle) : createServer(handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port || this.#opts.port, this.#opts.host, () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    this.controlPlane.apiUp();
  }

  async stop(): Promise<void> {
    await this.suspend();
    this.#scheduler.stop();
    this.#kubelet.stop();
    this.controlPlane.stop();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const rec: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query: url.search, code: 0, bytes: 0, requestBytes: 0 };
    const write = (code: number, body: unknown, type = 'application/json', headers: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      rec.code = code;
      rec.bytes += Buffer.byteLength(text);
      res.writeHead(code, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      const raw = await readBody(req);
      rec.requestBytes = raw.length;
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
        }
      }
      if (url.pathname.startsWith('/_sim/')) {
        const r = handleAdmin(this, rec.method, url.pathname, body);
        write(r.code, r.body);
        return;
      }
      this.requests.push(rec);
      // Authentication comes first (a wrong token is 401 everywhere, faults or not); no token is
      // system:anonymous, which the system:public-info-viewer ClusterRole lets read the health
      // endpoints and /version.
      const auth = req.headers.authorization;
      if (auth !== undefined && !(auth.startsWith('Bearer ') && this.#tokens.has(auth.slice('Bearer '.length)))) throw unauthorized();
      const user = auth ? this.#opts.user : 'system:anonymous';
      const healthMatch = /^\/(livez|readyz|healthz)(?:\/(.+))?$/.exec(url.pathname);
      if (this.faults.settings.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.settings.latencyMs).unref()); // unref: a long fault must not keep a finished test alive
      // Priority and fairness never rejects the health endpoints: the "probes" FlowSchema puts
      // them at the exempt priority level (flowcontrol/bootstrap/default.go). A 429 burst passes
      // them by, untaken; 5xx (a failing server or a proxy in front of it) reaches them too.
      const exempt = healthMatch !== null && this.faults.settings.errorBurst.code === 429;
      const burst = exempt ? undefined : this.faults.takeBurstError();
      if (burst) throw burst;
      if (healthMatch) {
        const exclude = url.searchParams.getAll('exclude');
        const r = this.health.answer(healthMatch[1] as HealthEndpoint, healthMatch[2], url.searchParams.has('verbose'), exclude);
        write(r.code, r.body, 'text/plain; charset=utf-8');
        return;
      }
      if (url.pathname === '/version') {
        write(200, {
          major: '1',
          minor: '31',
          gitVersion: 'v1.31.4',
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2026-01-01T00:00:00Z',
          goVersion: 'go1.22.10',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
        return;
      }
      const path = parseResourcePath(url.pathname);
      if (!path) {
        write(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
        return;
      }
      const verb = verbOf(rec.method, path, url.searchParams);
      Object.assign(rec, { verb, resource: path.resource, subresource: path.subresource, namespace: path.namespace, name: path.name });
      const attributes = { verb, ref: { ...refOf(path.resource, path.name), group: RESOURCES[path.resource].group, subresource: path.subresource }, namespace: path.namespace, user };
      const denied = this.faults.denial(attributes) ?? this.faults.admission(attributes);
      if (denied) throw denied;
      // A list goes to etcd while the cache initialises only with a limit and no selector
      // (cacher/delegator.go shouldDelegateListOnNotReadyCache); every other list, consistent
      // ones included (served from the cache since ConsistentListFromCache), and every watch wait for it.
      const q = url.searchParams;
      const toEtcd = verb === 'list' && Number(q.get('limit') ?? 0) > 0 && !q.get('labelSelector') && !q.get('fieldSelector');
      if (Date.now() < this.#initializingUntil && (verb === 'watch' || (verb === 'list' && !toEtcd))) {
        throw initializing(1);
      }
      if (this.#cacheStarting) {
        // The new cache starts from a list taken when it is ready: what happened while it
        // initialized is not in its history either.
        this.#cacheStarting = false;
        this.store.compact();
      }

      if (verb === 'create' && path.namespace && Date.now() < this.#admissionNotReadyUntil) {
        // Mutating admission (NamespaceLifecycle first) waits for its informers, then gives up.
        await new Promise((r) => setTimeout(r, Math.min(this.#admissionNotReadyUntil - Date.now(), this.#admissionWaitMs)).unref());
        if (Date.now() < this.#admissionNotReadyUntil) {
          const name = (body as { metadata?: { name?: string } } | undefined)?.metadata?.name;
          throw notYetReady(refOf(path.resource, name));
        }
      }
      const reply = handleResource(this.store, verb, path, url.searchParams, body, { admission: this.admission, contentType: req.headers['content-type'] });
      if ('code' in reply) {
        write(reply.code, reply.body);
        return;
      }
      rec.code = 200;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      let ended = false;
      let stopped = false;
      const end = () => {
        if (ended) return;
        ended = true;
        this.#watchEnds.delete(closeNow);
        res.end();
      };
      const closeNow = () => {
        end();
        finish();
      };
      this.#watchEnds.add(closeNow);
      const send = (e: WatchEvent) => {
        if (ended) return;
        const line = `${JSON.stringify(e)}\n`;
        rec.bytes += Buffer.byteLength(line);
        res.write(line);
      };
      // The client's timeoutSeconds, else a random time in [minRequestTimeout, 2 × minRequestTimeout)
      // (handlers/get.go ListResource), so that watches do not all end, and re-list, at once.
      const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
      const timeoutMs = timeout > 0 ? timeout * 1000 : this.#opts.minRequestTimeoutMs * (1 + Math.random());
      const stop = this.hub.open({ ...reply.watch, send, end, bookmarkIntervalMs: this.#opts.bookmarkIntervalMs, lastBookmarkInMs: timeoutMs - this.#opts.bookmarkBeforeDeadlineMs });
      const finish = () => {
        if (stopped) return;
        stopped = true;
        stop();
      };
      if (ended) finish();
      const timer = setTimeout(closeNow, timeoutMs);
      timer.unref();
      res.on('close', () => {
        clearTimeout(timer);
        ended = true;
        this.#watchEnds.delete(closeNow);
        finish();
      });
    } catch (err) {
      const e = err instanceof StatusError ? err : internalError((err as Error).message);
      if (!res.headersSent) {
        if (e.plain !== undefined) write(e.status.code, e.plain, 'text/plain; charset=utf-8', e.headers);
        else write(e.status.code, e.status, 'application/json', e.headers);
      } else res.end();
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
