import { z } from 'zod';
import { parseHostPort } from '../../config/address.ts';
import { describe, duration } from '../../config/fields.ts';
import { recordEtcdMetrics } from '../../etcd/metrics.ts';
import { errorText } from '../../errors.ts';
import { fileSignature } from '../../files.ts';
import { etcdMetrics } from '../../metrics/metrics.ts';
import type { EtcdSession } from '../../etcd/session.ts';
import { connectionSettings, EtcdSetupError } from '../../etcd/settings.ts';
import { ETCD_REASONS, judgeEtcd, type MemberObservation } from '../../etcd/verdict.ts';
import type { ProbeResult } from '../../verdict.ts';
import { defineProbe } from '../probe.ts';
import { correlateEtcd } from './correlate.ts';
import { etcdFacts, type EtcdFacts } from './facts.ts';

/** host:port, [v6]:port; the label that names the member in metrics and messages. */
const endpoint = z.string().refine((s) => parseHostPort(s) !== undefined, {
  error: (iss) => `expected host:port such as 127.0.0.1:2379, without a scheme (the tls section turns TLS on), got ${describe(iss.input)}`,
});

const file = z.string().startsWith('/', 'must be an absolute path');

export const etcdProbe = defineProbe({
  name: 'etcd',
  // Off unless configured: most nodes of a cluster have no business writing to etcd.
  defaultEnabled: false,
  defaultInterval: 10_000,
  defaultTimeout: 8_000,
  reasons: ETCD_REASONS,
  options: z.object({
    /** The members to probe, each on its own; default: the local member of a stacked control plane. */
    endpoints: z
      .array(endpoint)
      .min(1, 'must name at least one endpoint')
      .refine((a) => new Set(a).size === a.length, 'must not repeat an endpoint')
      .default(['127.0.0.1:2379']),
    /** Keys are written under this prefix only; default /vigil/probe/<node name>/. */
    prefix: z
      .string()
      .regex(/^\/.+\/$/, 'must start and end with "/" and not be "/" alone')
      .optional(),
    tls: z
      .strictObject({ caFile: file.optional(), certFile: file.optional(), keyFile: file.optional() })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { error: 'certFile and keyFile go together', path: ['keyFile'] })
      .optional(),
    auth: z
      .strictObject({ username: z.string().min(1, 'must not be empty'), password: z.string().optional(), passwordFile: file.optional() })
      .refine((a) => (a.password === undefined) !== (a.passwordFile === undefined), { error: 'give exactly one of password and passwordFile', path: ['password'] })
      .optional(),
    /** Put latency above which a member is a warning, then critical. */
    writeLatency: z
      .strictObject({ warning: duration().prefault('100ms'), critical: duration().prefault('250ms') })
      .refine((t) => t.warning < t.critical, { error: 'warning must be below critical', path: ['warning'] })
      .prefault({}),
    /**
     * How long each request to a member may take; a put that takes longer is critical. A member
     * gets up to three requests in a row, so the default is a quarter of the probe's timeout.
     */
    requestTimeout: duration({ min: 50 }).optional(),
    /** TTL of the lease the probe keys hang on: how long they outlive an agent that died. */
    leaseTTL: duration({ min: 2000 }).prefault('60s'),
  }),
  facts: etcdFacts,
  correlate: correlateEtcd,
  create({ node, timeout: runTimeout, registry, logger }, opts) {
    const metrics = etcdMetrics(registry);
    const requestTimeout = opts.requestTimeout ?? Math.floor(runTimeout / 4);
    if (3 * requestTimeout >= runTimeout) {
      logger.warn({ requestTimeout, timeout: runTimeout }, 'probes.etcd.requestTimeout is a third of the probe timeout or more: a member slow to answer may time the whole run out before it can be named');
    }
    const prefix = opts.prefix ?? `/vigil/probe/${node.name}/`;
    const conn = { tls: opts.tls, auth: opts.auth, dialTimeoutMs: requestTimeout };
    const thresholds = { warningMs: opts.writeLatency.warning, criticalMs: opts.writeLatency.critical };
    let session: Promise<EtcdSession> | undefined;
    // The credential files as they were when the session was built: a TLS or auth failure rebuilds
    // the clients only once one of them has changed, not on every run while a member refuses us.
    const files = [opts.tls?.caFile, opts.tls?.certFile, opts.tls?.keyFile, opts.auth?.passwordFile].filter((f): f is string => f !== undefined);
    const signature = () => fileSignature(files);
    let builtFrom = '';
    /** The member label each endpoint's series were last exported under. */
    const exported = new Map<string, string>();

    const connect = () =>
      (session ??= (async () => {
        builtFrom = signature();
        const settings = await connectionSettings(conn);
        const { EtcdSession } = await import('../../etcd/session.ts');
        return new EtcdSession({ endpoints: opts.endpoints, settings, leaseTtlSeconds: Math.ceil(opts.leaseTTL / 1000), logger });
      })());

    return {
      async run(): Promise<ProbeResult> {
        let c;
        try {
          c = await connect();
        } catch (err) {
          session = undefined; // a file that appears later (a mounted Secret) is picked up by the next run
          const kind = err instanceof EtcdSetupError ? err.kind : 'tls';
          const observations: MemberObservation[] = opts.endpoints.map((e) => ({ endpoint: e, down: { kind, text: errorText(err) } }));
          recordEtcdMetrics(metrics, observations, false, exported);
          return { verdict: 'critical', reason: kind, message: `etcd: ${errorText(err)}` };
        }
        const observed = await c.observe({ prefix, timeoutMs: requestTimeout });
        const j = judgeEtcd(observed, thresholds);
        if (observed.some((m) => m.down?.kind === 'tls' || m.down?.kind === 'auth') && signature() !== builtFrom) {
          // Rebuild the clients on the next run from the renewed certificate or password; the old lease is revoked, not left to expire.
          session = undefined;
          void c.close(requestTimeout).catch((err: unknown) => logger.debug({ err }, 'closing the etcd session after a credential change'));
        }
        recordEtcdMetrics(metrics, observed, j.hasLeader, exported);
        const observations: Record<string, number | string | boolean | null> = { 'has leader': j.hasLeader };
        const facts: EtcdFacts = { members: [], clusterProblem: null };
        const problemOf = (endpoint: string | undefined) => {
          // worst first: the first is the one to state
          const p = j.problems.find((x) => x.endpoint === endpoint);
          return p && p.verdict !== 'ok' ? { verdict: p.verdict, reason: p.reason } : null;
        };
        facts.clusterProblem = problemOf(undefined);
        for (const m of observed) {
          if (m.name) observations[`${m.endpoint} member`] = m.name;
          const alarms = (m.alarms ?? []).filter((a) => a.memberId === m.memberId).map((a) => a.alarm);
          if (alarms.length) observations[`${m.endpoint} alarm`] = alarms.join(',');
          observations[`${m.endpoint} up`] = !m.down;
          if (m.putMs !== undefined) observations[`${m.endpoint} put ms`] = Number(m.putMs.toFixed(2));
          if (m.getMs !== undefined) observations[`${m.endpoint} get ms`] = Number(m.getMs.toFixed(2));
          facts.members.push({ endpoint: m.endpoint, name: m.name || null, up: !m.down, problem: problemOf(m.endpoint), putMs: m.putMs === undefined ? null : Number(m.putMs.toFixed(2)), alarms });
        }
        return { verdict: j.verdict, reason: j.reason, message: j.message, observations, facts };
      },
      async close() {
        const c = await session?.catch(() => undefined);
        await c?.close(requestTimeout);
      },
    };
  },
});
