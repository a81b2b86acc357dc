import { z } from 'zod';
import { duration } from '../../config/fields.ts';
import { describeApiError } from '../../k8s/errors.ts';
import { failingChecks, parseHealthOutput } from '../../k8s/healthz.ts';
import { rawGet } from '../../k8s/raw-get.ts';
import { apiserverMetrics } from '../../metrics/metrics.ts';
import type { ProbeResult } from '../../verdict.ts';
import { withKubeClients } from '../kube.ts';
import { defineProbe } from '../probe.ts';
import { ms, resultOf, type Problem } from '../problems.ts';
import { correlateApiserver } from './correlate.ts';
import { apiserverFacts, type ApiserverFacts } from './facts.ts';

const ENDPOINTS = ['livez', 'readyz'] as const;

export const apiserverProbe = defineProbe({
  name: 'apiserver',
  defaultEnabled: false,
  defaultInterval: 15_000,
  defaultTimeout: 10_000,
  reasons: ['livez-failed', 'readyz-failed', 'slow', 'forbidden', 'api-error'],
  clients: ['kubernetes'],
  options: z.object({
    /** Answers slower than this make the verdict a warning. */
    latencyWarning: duration({ min: 1 }).prefault('1s'),
  }),
  facts: apiserverFacts,
  correlate: correlateApiserver,
  checksApi: true,
  create({ kubernetes, clock, registry }, opts) {
    const metrics = apiserverMetrics(registry);
    return {
      run: (signal) =>
        withKubeClients(kubernetes, async ({ config: kube }): Promise<ProbeResult> => {
          const server = kube.getCurrentCluster()?.server ?? 'the API server';
          const problems: Problem[] = [];
          const observations: Record<string, number | string> = {};
          const facts: ApiserverFacts = { failingChecks: {} };
          for (const endpoint of ENDPOINTS) {
            let res;
            try {
              res = await rawGet(kube, `/${endpoint}?verbose`, { signal, now: () => clock.now() });
            } catch (err) {
              if (signal.aborted) throw err;
              return { verdict: 'critical', reason: 'api-error', message: describeApiError(err, `GET ${server}/${endpoint}`).message, observations };
            }
            metrics.apiserverRequestDuration.observe({ path: endpoint }, res.elapsedMs / 1000);
            observations[`${endpoint} seconds`] = res.elapsedMs / 1000;
            if (res.status === 401) {
              problems.push({ verdict: 'critical', reason: 'forbidden', text: `/${endpoint} answered 401 Unauthorized: the API server rejected vigil's credentials; check the service account token or kubeconfig` });
              continue;
            }
            if (res.status === 403) {
              problems.push({ verdict: 'critical', reason: 'forbidden', text: `/${endpoint} answered ${res.status}: grant "get" on the non-resource URL /${endpoint} (the system:public-info-viewer ClusterRole does)` });
              continue;
            }
            const report = parseHealthOutput(res.body);
            const failing = failingChecks(report);
            if (res.status !== 200 || report.passed === false || failing.length > 0) {
              const what = failing.length > 0 ? `failing checks: ${failing.join(', ')}` : `HTTP ${res.status}: ${res.body.trim().split('\n')[0]?.slice(0, 200) || 'no body'}`;
              problems.push({ verdict: 'critical', reason: `${endpoint}-failed`, text: `API server ${endpoint === 'livez' ? 'not live' : 'not ready'} (/${endpoint}): ${what}` });
              observations[`${endpoint} failing`] = failing.join(',');
              facts.failingChecks[endpoint] = failing;
            } else if (res.elapsedMs > opts.latencyWarning) {
              problems.push({ verdict: 'warning', reason: 'slow', text: `/${endpoint} took ${ms(res.elapsedMs)} (warning above ${ms(opts.latencyWarning)})` });
            }
          }
          return { ...resultOf(problems, () => ENDPOINTS.map((e) => `/${e} ok in ${ms((observations[`${e} seconds`] as number) * 1000)}`).join(', '), observations), facts };
        }),
    };
  },
});
