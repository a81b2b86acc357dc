import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { KubernetesWriteMetrics } from '../metrics/metrics.ts';
import type { KubeClients } from '../k8s/client.ts';
import { describeApiError } from '../k8s/errors.ts';
import { Backoff } from '../backoff.ts';
import { EventRecorder } from './events.ts';
import { due, planWrite, type Written } from './plan.ts';
import type { DesiredCondition } from '../diagnosis.ts';

export interface NodeConditionWriterOptions {
  node: string;
  kubernetes: () => Promise<KubeClients>;
  clock: Clock;
  logger: Logger;
  metrics: KubernetesWriteMetrics;
  /** A condition whose status holds is written again (new message, heartbeat) at most this often. */
  minIntervalMs?: number;
  /** Every condition is written at least this often, so its lastHeartbeatTime says the agent is alive. */
  heartbeatMs?: number;
  /** Each API call is given up after this long. */
  timeoutMs?: number;
  /** After a failed write, the next one waits this long, doubling up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** What the API server's own probe last said: writes wait while it is down. */
export interface ApiServerSeen {
  down: boolean;
  /** When its last ok run finished (ms), if any. */
  lastOkAt: number | null;
}

type Kind = 'node-condition' | 'event';

/**
 * Keeps this node's Vigil* conditions on its Node (a strategic merge patch on nodes/<name>/status,
 * as node-problem-detector writes them, so the kubelet's conditions are never touched) and an
 * Event on every status transition. Off the probes' path: observe() only records and schedules;
 * the writes run later, one at a time, each bounded by its own timeout, coalesced into one patch,
 * rate-limited per condition, and held back while the API server is known down.
 */
export class NodeConditionWriter {
  readonly #opts: Required<NodeConditionWriterOptions>;
  readonly #want = new Map<string, DesiredCondition>();
  /** What the Node carries, as last written or read; undefined until read once. */
  #written: Map<string, Written> | undefined;
  readonly #recorder: EventRecorder;
  #api: ApiServerSeen = { down: false, lastOkAt: null };
  #failedAt: number | null = null;
  readonly #backoff: Backoff;
  #blockedUntil = 0;
  #timer: { handle: TimerHandle; at: number } | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  /** Error kinds already logged at warn level; logged again only after a success. */
  readonly #logged = new Set<string>();

  constructor(opts: NodeConditionWriterOptions) {
    this.#opts = { minIntervalMs: 30_000, heartbeatMs: 300_000, timeoutMs: 5_000, backoffMs: 5_000, maxBackoffMs: 120_000, ...opts };
    this.#backoff = new Backoff(this.#opts.backoffMs, this.#opts.maxBackoffMs);
    this.#recorder = new EventRecorder(this.#opts.node);
    for (const kind of ['node-condition', 'event'] as const) for (const result of ['ok', 'error', 'forbidden', 'skipped']) this.#opts.metrics.writes.inc({ kind, result }, 0);
  }

  /** The evidence now; cheap and synchronous, called after every probe result. */
  observe(desired: readonly DesiredCondition[], api: ApiServerSeen): void {
    if (this.#stopped) return;
    this.#api = api;
    for (const d of desired) this.#want.set(d.type, d);
    this.#schedule(0);
  }

  /** Resolves once no write is in flight (tests wait on it after moving their clock). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Waits for a write in flight; no write starts after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const at = this.#opts.clock.now() + delayMs;
    if (this.#timer && this.#timer.at <= at) return;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer.handle);
    this.#timer = {
      at,
      handle: this.#opts.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#kick();
      }, delayMs),
    };
  }

  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#flush()
      .catch((err: unknown) => this.#opts.logger.error({ err }, 'node conditions: unexpected failure'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule(0);
        }
      });
  }

  #due(now: number): { dueNow: boolean; next: number } {
    return due(this.#want, this.#written, now, this.#opts);
  }

  /** Known down: its probe says so, or the last write failed and neither the back-off nor a later ok probe run has cleared it. */
  #apiDown(now: number): boolean {
    if (this.#api.down) return true;
    if (this.#failedAt === null) return false;
    if (this.#api.lastOkAt !== null && this.#api.lastOkAt > this.#failedAt) return false;
    return now < this.#blockedUntil;
  }

  async #flush(): Promise<void> {
    const { clock } = this.#opts;
    const now = clock.now();
    const { dueNow, next } = this.#due(now);
    if (!dueNow) {
      if (next !== Infinity) this.#schedule(next - now);
      return;
    }
    if (this.#apiDown(now)) {
      this.#opts.metrics.writes.inc({ kind: 'node-condition', result: 'skipped' });
      // observe() brings the API server's next verdict; the back-off's end is the other way back
      if (!this.#api.down) this.#schedule(Math.max(0, this.#blockedUntil - now));
      return;
    }
    let k: KubeClients;
    try {
      k = await this.#opts.kubernetes();
    } catch (err) {
      this.#failed('node-condition', err, 'load Kubernetes credentials');
      return;
    }
    if (!this.#written && !(await this.#readNode(k))) return;
    if (this.#stopped) return;
    const written = this.#written!;
    const at = clock.now();
    const { conditions, transitions, updated } = planWrite(this.#want, written, at);
    try {
      // strategic merge: conditions merge by type, so the kubelet's own are left as they are
      await k.core.patchNodeStatus({ name: this.#opts.node, body: { status: { conditions } } }, await this.#callOptions('application/strategic-merge-patch+json'));
    } catch (err) {
      // Refused as invalid (a validating admission policy, or a Node that is not as last read):
      // the Node is read again before the next write, so that write starts from what it carries.
      if ((err as { code?: unknown }).code === 422) this.#written = undefined;
      this.#failed('node-condition', err, `patch nodes/${this.#opts.node}/status`);
      return;
    }
    this.#succeeded('node-condition');
    this.#written = updated;
    for (const t of transitions) this.#recorder.record(t, at);
    await this.#sendEvents(k);
    const after = this.#due(clock.now());
    if (after.next !== Infinity) this.#schedule(after.next - clock.now());
  }

  /** Reads the node once, so a restarted agent keeps lastTransitionTime and sees a recovery as one. */
  async #readNode(k: KubeClients): Promise<boolean> {
    try {
      const node = await k.core.readNode({ name: this.#opts.node }, await this.#callOptions());
      const known = new Map<string, Written>();
      for (const c of node.status?.conditions ?? []) {
        if (!this.#want.has(c.type) && !c.type.startsWith('Vigil')) continue;
        if (c.status !== 'True' && c.status !== 'False') continue;
        const ltt = c.lastTransitionTime as unknown;
        known.set(c.type, { status: c.status, reason: c.reason ?? '', message: c.message ?? '', lastTransitionTime: ltt instanceof Date ? ltt.toISOString().replace(/\.\d+Z$/, 'Z') : typeof ltt === 'string' ? ltt : '', at: 0 });
      }
      this.#written = known;
      return true;
    } catch (err) {
      this.#failed('node-condition', err, `get nodes/${this.#opts.node}`);
      return false;
    }
  }

  async #sendEvents(k: KubeClients): Promise<void> {
    await this.#recorder.send(
      async (e) => {
        // a cluster-scoped object's events live in "default" (client-go's recorder does the same)
        await k.core.createNamespacedEvent({ namespace: 'default', body: e }, await this.#callOptions());
      },
      () => this.#stopped,
      (ok, err) => (ok ? this.#succeeded('event') : this.#failed('event', err, 'create an event in namespace default', false)),
    );
  }

  /** This call's own timeout (set after the client's, so it wins) and, for a patch, its Content-Type. */
  async #callOptions(contentType?: string): Promise<ConfigurationOptions> {
    // already loaded with the clients: this costs nothing more
    const { Observable } = await import('@kubernetes/client-node');
    const timeoutMs = this.#opts.timeoutMs;
    const own: ObservableMiddleware = {
      pre: (ctx: RequestContext) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        if (contentType) ctx.setHeaderParam('Content-Type', contentType);
        return new Observable(Promise.resolve(ctx));
      },
      post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
    };
    return { middleware: [own], middlewareMergeStrategy: 'append' };
  }

  #succeeded(kind: Kind): void {
    this.#opts.metrics.writes.inc({ kind, result: 'ok' });
    if (kind === 'node-condition') {
      this.#failedAt = null;
      this.#backoff.reset();
    }
    const had = [...this.#logged].filter((key) => key.startsWith(`${kind}:`));
    if (had.length > 0) {
      for (const key of had) this.#logged.delete(key);
      this.#opts.logger.info({ kind }, `${kind === 'event' ? 'events' : 'node conditions'}: written again`);
    }
  }

  #failed(kind: Kind, err: unknown, action: string, backoff = true): void {
    const f = describeApiError(err, action, kind === 'event' ? { verb: 'create', resource: 'events', group: '', namespace: 'default' } : { verb: 'patch', resource: 'nodes/status', group: '' });
    this.#opts.metrics.writes.inc({ kind, result: f.reason === 'forbidden' ? 'forbidden' : 'error' });
    const key = `${kind}:${f.reason}:${f.code ?? ''}`;
    const log = { kind, reason: f.reason, code: f.code };
    if (this.#logged.has(key)) this.#opts.logger.debug(log, f.message);
    else {
      this.#logged.add(key);
      this.#opts.logger.warn(log, `${kind === 'event' ? 'events' : 'node conditions'}: ${f.message}${this.#logged.size === 1 ? ' (logged once until a write succeeds)' : ''}`);
    }
    if (!backoff) return;
    const now = this.#opts.clock.now();
    this.#failedAt = now;
    const wait = this.#backoff.next();
    this.#blockedUntil = now + wait;
    this.#schedule(wait);
  }
}
