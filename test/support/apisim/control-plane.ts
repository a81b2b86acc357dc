import { randomUUID } from 'node:crypto';
import type { Store } from './store.ts';

/** MicroTime, as leases carry it: RFC 3339 with microseconds. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export interface LeaseSettings {
  /** Renew the lease every renewIntervalMs, as a healthy leader does. */
  autoRenew: boolean;
}

/** The components' leader-election flags (kube-scheduler's and kube-controller-manager's defaults). */
export interface LeaderElectionTiming {
  /** --leader-elect-lease-duration (15 s): the lease's leaseDurationSeconds. */
  leaseDurationSeconds: number;
  /** --leader-elect-renew-deadline (10 s): a leader that cannot renew for this long stops leading. */
  renewDeadlineMs: number;
  /** How long the kubelet takes to start a component that exited again (its first restart has no back-off). */
  restartMs: number;
}

export const DEFAULT_LEADER_ELECTION: LeaderElectionTiming = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, restartMs: 1000 };

/**
 * The leader leases of kube-scheduler and kube-controller-manager in kube-system, renewed every
 * two seconds (the components' default retry period) unless a test stops or back-dates them.
 *
 * While the API server is down (apiDown … apiUp) nobody can renew. A leader that could not renew
 * for its renew deadline stops leading and exits (client-go leaderelection.go renew; the
 * components' OnStoppedLeading: "leaderelection lost"); the kubelet starts it again, and the new
 * instance, under a new identity, may take the lease only once the record it first observed has
 * stayed unchanged for leaseDurationSeconds (leaderelection.go tryAcquireOrRenew, observedTime).
 * So after an outage longer than the renew deadline the lease stays unrenewed for about a lease
 * duration more, with every component healthy.
 */
export class ControlPlaneSim {
  static readonly COMPONENTS = ['kube-scheduler', 'kube-controller-manager'] as const;
  readonly #store: Store;
  readonly #auto = new Map<string, boolean>();
  /** Components whose new instance waits to take the lease, and from when it may. */
  readonly #acquireAt = new Map<string, number>();
  readonly #timing: LeaderElectionTiming;
  readonly #timer: NodeJS.Timeout;
  /** Since when the API server has been down; undefined while it answers. */
  #downSince: number | undefined;

  constructor(store: Store, opts: { renewIntervalMs?: number; leaderElection?: Partial<LeaderElectionTiming> } = {}) {
    this.#store = store;
    this.#timing = { ...DEFAULT_LEADER_ELECTION, ...opts.leaderElection };
    for (const name of ControlPlaneSim.COMPONENTS) {
      this.#create(name);
      this.#auto.set(name, true);
    }
    this.#timer = setInterval(() => this.#tick(), opts.renewIntervalMs ?? 2000);
    this.#timer.unref();
  }

  #tick(now = Date.now()): void {
    if (this.#downSince !== undefined) return;
    for (const [name, auto] of this.#auto) {
      if (!auto) continue;
      const acquireAt = this.#acquireAt.get(name);
      if (acquireAt === undefined) this.renew(name, now);
      else if (now >= acquireAt) {
        this.#acquireAt.delete(name);
        this.#acquire(name, now);
      }
    }
  }

  #create(name: string, renewedAt = Date.now()): void {
    this.#store.create('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-system' },
      spec: { holderIdentity: `control-plane-1_${randomUUID()}`, leaseDurationSeconds: this.#timing.leaseDurationSeconds, acquireTime: microTime(renewedAt), renewTime: microTime(renewedAt), leaseTransitions: 0 },
    });
  }

  /** A new instance takes the lease: a new identity, acquired and renewed now, one more transition. */
  #acquire(name: string, at: number): void {
    if (!this.#store.get('leases', 'kube-system', name)) return;
    this.#store.update('leases', 'kube-system', name, (l) => {
      const spec = (l.spec ?? {}) as { leaseTransitions?: number };
      l.spec = { ...spec, holderIdentity: `control-plane-1_${randomUUID()}`, acquireTime: microTime(at), renewTime: microTime(at), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    });
  }

  renew(name: string, at = Date.now()): void {
    if (!this.#store.get('leases', 'kube-system', name)) return;
    this.#store.update('leases', 'kube-system', name, (l) => {
      l.spec = { ...l.spec, renewTime: microTime(at) };
    });
  }

  /** The API server stops answering: no lease is renewed until apiUp. */
  apiDown(at = Date.now()): void {
    this.#downSince ??= at;
  }

  /**
   * The API server answers again. After an outage longer than the renew deadline every leader has
   * exited; each new instance starts (restartMs after its exit, and not before the API answers),
   * observes the lease, and takes it a lease duration later.
   */
  apiUp(at = Date.now()): void {
    const since = this.#downSince;
    this.#downSince = undefined;
    if (since === undefined || at - since <= this.#timing.renewDeadlineMs) return;
    const observedAt = Math.max(at, since + this.#timing.renewDeadlineMs + this.#timing.restartMs);
    for (const [name, auto] of this.#auto) if (auto) this.#acquireAt.set(name, observedAt + this.#timing.leaseDurationSeconds * 1000);
  }

  /** Back-dates the lease and stops renewing it: the component is down since `ageSeconds` ago. */
  set(name: string, opts: { ageSeconds?: number; autoRenew?: boolean; remove?: boolean }): void {
    this.#acquireAt.delete(name);
    if (opts.remove) {
      this.#auto.set(name, false);
      if (this.#store.get('leases', 'kube-system', name)) this.#store.remove('leases', 'kube-system', name);
      return;
    }
    if (!this.#store.get('leases', 'kube-system', name)) this.#create(name);
    if (opts.ageSeconds !== undefined) {
      this.#auto.set(name, false);
      this.renew(name, Date.now() - opts.ageSeconds * 1000);
    }
    if (opts.autoRenew !== undefined) {
      this.#auto.set(name, opts.autoRenew);
      if (opts.autoRenew) this.renew(name);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The API server's own health checks, with the names real servers report. */
const LIVEZ = [
  'ping',
  'log',
  'etcd',
  'poststarthook/start-apiserver-admission-initializer',
  'poststarthook/generic-apiserver-start-informers',
  'poststarthook/start-kube-apiserver-admission-initializer',
  'poststarthook/bootstrap-controller',
  'poststarthook/scheduling/bootstrap-system-priority-classes',
];
const READYZ = ['ping', 'log', 'etcd', 'etcd-readiness', 'informer-sync', 'poststarthook/start-apiserver-admission-initializer', 'poststarthook/generic-apiserver-start-informers', 'poststarthook/bootstrap-controller', 'shutdown'];

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';

export class HealthSim {
  /** Failing check names per endpoint. */
  failing: Record<HealthEndpoint, string[]> = { livez: [], readyz: [], healthz: [] };
  /** The error a failing check reports on its own path; the aggregate withholds it. */
  reasons: Record<string, string> = {};

  checks(endpoint: HealthEndpoint): string[] {
    return endpoint === 'readyz' ? READYZ : LIVEZ;
  }

  /**
   * Status code and body, as kube-apiserver answers /livez, /readyz (?verbose, ?exclude=) and
   * /<endpoint>/<check> (staging/src/k8s.io/apiserver/pkg/server/healthz/healthz.go): excluded
   * checks are listed in place, unknown exclusions warned about, a single failing check gives its error.
   */
  answer(endpoint: HealthEndpoint, check: string | undefined, verbose: boolean, exclude: string[]): { code: number; body: string } {
    const failing = new Set(this.failing[endpoint]);
    if (check !== undefined) {
      if (!this.checks(endpoint).includes(check)) return { code: 404, body: '404 page not found\n' };
      return failing.has(check) ? { code: 500, body: `internal server error: ${this.reasons[check] ?? `${check} check failed`}\n` } : { code: 200, body: 'ok' };
    }
    const excluded = new Set(exclude);
    const lines: string[] = [];
    let bad = 0;
    for (const c of this.checks(endpoint)) {
      if (excluded.delete(c)) lines.push(`[+]${c} excluded: ok`);
      else if (failing.has(c)) {
        bad++;
        lines.push(`[-]${c} failed: reason withheld`);
      } else lines.push(`[+]${c} ok`);
    }
    if (excluded.size > 0)
      lines.push(
        `warn: some health checks cannot be excluded: no matches for ${[...excluded]
          .sort()
          .map((c) => JSON.stringify(c))
          .join(',')}`,
      );
    // http.Error ends the failure body with a newline.
    if (bad > 0) return { code: 500, body: `${lines.join('\n')}\n${endpoint} check failed\n` };
    if (!verbose) return { code: 200, body: 'ok' };
    return { code: 200, body: `${lines.join('\n')}\n${endpoint} check passed\n` };
  }
}
