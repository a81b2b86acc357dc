import { z } from 'zod';
import { duration } from '../../config/fields.ts';
import { abortable } from '../../abortable.ts';
import { describeApiError } from '../../k8s/errors.ts';
import { controlPlaneMetrics } from '../../metrics/metrics.ts';
import type { ProbeResult } from '../../verdict.ts';
import { withKubeClients } from '../kube.ts';
import { defineProbe } from '../probe.ts';
import { resultOf, type Problem } from '../problems.ts';
import { apiUnanswered, correlateControlPlane } from './correlate.ts';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Lease name such as "kube-scheduler"');
const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Leader leases say whether kube-scheduler and kube-controller-manager are alive even on managed
 * clusters, where their health ports cannot be reached: a leader renews its lease every few seconds.
 */
export const controlPlaneProbe = defineProbe({
  name: 'control-plane',
  defaultEnabled: false,
  defaultInterval: 15_000,
  defaultTimeout: 10_000,
  reasons: ['lease-stale', 'lease-missing', 'forbidden', 'api-error'],
  clients: ['kubernetes'],
  options: z.object({
    components: z.array(name).min(1).default(['kube-scheduler', 'kube-controller-manager']),
    leaseNamespace: name.default('kube-system'),
    /** A lease not renewed for longer than this names its component as down (leases last 15 s by default). */
    maxLeaseAge: duration({ min: 1000 }).prefault('30s'),
  }),
  correlate: correlateControlPlane,
  apiUnanswered,
  create({ kubernetes, clock, registry }, opts) {
    const metrics = controlPlaneMetrics(registry);
    return {
      run: (signal) =>
        withKubeClients(kubernetes, async (k): Promise<ProbeResult> => {
          const problems: Problem[] = [];
          const observations: Record<string, number | string> = {};
          for (const component of opts.components) {
            const where = `${opts.leaseNamespace}/${component}`;
            let lease;
            try {
              lease = await abortable(k.coordination.readNamespacedLease({ namespace: opts.leaseNamespace, name: component }), signal);
            } catch (err) {
              if (signal.aborted) throw err;
              const f = describeApiError(err, `read lease ${where}`);
              if (f.reason === 'not-found') {
                metrics.controlPlaneLeaseAge.remove({ component });
                problems.push({ verdict: 'warning', reason: 'lease-missing', text: `no leader lease ${where}: ${component} has never held leadership here, or runs without --leader-elect, so its health cannot be judged` });
                continue;
              }
              // An age read before the API failed would go on looking fresh: unknown is the truth now.
              for (const c of opts.components) metrics.controlPlaneLeaseAge.remove({ component: c });
              return { verdict: 'critical', reason: f.reason, message: f.message, observations };
            }
            const renew = lease.spec?.renewTime as Date | string | undefined;
            const renewedAt = renew === undefined || renew === null ? NaN : new Date(renew).getTime();
            const holder = lease.spec?.holderIdentity ?? 'nobody';
            if (Number.isNaN(renewedAt)) {
              metrics.controlPlaneLeaseAge.remove({ component });
              problems.push({ verdict: 'critical', reason: 'lease-stale', text: `${component} is down: its leader lease ${where} has never been renewed (holder ${holder})` });
              continue;
            }
            // A renewTime slightly ahead of this node's clock is skew, not a future renewal.
            const now = clock.now();
            const age = Math.max(0, now - renewedAt);
            metrics.controlPlaneLeaseAge.set({ component }, age / 1000);
            observations[`${component} lease age seconds`] = Number((age / 1000).toFixed(3));
            // No leader renews while the API server is down, and one that gave up waits a lease
            // duration before taking over again: its lease is judged from when the server answered again.
            const back = k.contact.answeringAgainSince();
            if (age > opts.maxLeaseAge && !(back !== undefined && renewedAt < back && now - back <= opts.maxLeaseAge)) {
              problems.push({ verdict: 'critical', reason: 'lease-stale', text: `${component} is down: its leader lease ${where} was last renewed ${secs(age)} ago by ${holder} (limit ${secs(opts.maxLeaseAge)})` });
            }
          }
          return resultOf(problems, () => opts.components.map((c) => `${c} lease renewed ${secs((observations[`${c} lease age seconds`] as number) * 1000)} ago`).join(', '), observations);
        }),
    };
  },
});
