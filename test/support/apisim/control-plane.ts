import { randomUUID } from 'node:crypto';
import type { Store } from './store.ts';

/** MicroTime, as leases carry it: RFC 3339 with microseconds. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export interface LeaseSettings {
  /** Renew the lease every renewIntervalMs, as a healthy leader does. */
  autoRenew: boolean;
}

/**
 * The leader leases of kube-scheduler and kube-controller-manager in kube-system, renewed every
 * two seconds (the components' default retry period) unless a test stops or back-dates them.
 */
export class ControlPlaneSim {
  static readonly COMPONENTS = ['kube-scheduler', 'kube-controller-manager'] as const;
  readonly #store: Store;
  readonly #auto = new Map<string, boolean>();
  readonly #timer: NodeJS.Timeout;

  constructor(store: Store, opts: { renewIntervalMs?: number } = {}) {
    this.#store = store;
    for (const name of ControlPlaneSim.COMPONENTS) {
      this.#create(name);
      this.#auto.set(name, true);
    }
    this.#timer = setInterval(() => {
      for (const [name, auto] of this.#auto) if (auto) this.renew(name);
    }, opts.renewIntervalMs ?? 2000);
    this.#timer.unref();
  }

  #create(name: string, renewedAt = Date.now()): void {
    this.#store.create('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-system' },
      spec: { holderIdentity: `control-plane-1_${randomUUID()}`, leaseDurationSeconds: 15, acquireTime: microTime(renewedAt), renewTime: microTime(renewedAt), leaseTransitions: 0 },
    });
  }

  renew(name: string, at = Date.now()): void {
    if (!this.#store.get('leases', 'kube-system', name)) return;
    this.#store.update('leases', 'kube-system', name, (l) => {
      l.spec = { ...l.spec, renewTime: microTime(at) };
    });
  }

  /** Back-dates the lease and stops renewing it: the component is down since `ageSeconds` ago. */
  set(name: string, opts: { ageSeconds?: number; autoRenew?: boolean; remove?: boolean }): void {
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
const LIVEZ = ['ping', 'log', 'etcd', 'poststarthook/start-apiserver-admission-initializer', 'poststarthook/generic-apiserver-start-informers', 'poststarthook/start-kube-apiserver-admission-initializer', 'poststarthook/bootstrap-controller', 'poststarthook/scheduling/bootstrap-system-priority-classes'];
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
    if (excluded.size > 0) lines.push(`warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((c) => JSON.stringify(c)).join(',')}`);
    // http.Error ends the failure body with a newline.
    if (bad > 0) return { code: 500, body: `${lines.join('\n')}\n${endpoint} check failed\n` };
    if (!verbose) return { code: 200, body: 'ok' };
    return { code: 200, body: `${lines.join('\n')}\n${endpoint} check passed\n` };
  }
}
