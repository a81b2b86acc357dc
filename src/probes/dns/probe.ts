import { z } from 'zod';
import { parseIpAddress } from '../../config/address.ts';
import { duration } from '../../config/fields.ts';
import { DNS_REASONS, dnsCheck, systemResolver } from './lookup.ts';
import { dnsMetrics } from '../../metrics/metrics.ts';
import { defineProbe } from '../probe.ts';
import { correlateDns } from './correlate.ts';

const server = z.string().refine((s) => parseIpAddress(s) !== undefined, {
  error: (iss) => `expected an IP address with an optional port ("10.96.0.10", "10.96.0.10:53", "[fd00::a]:53"), got ${JSON.stringify(iss.input)}`,
});

export const dnsProbe = defineProbe({
  name: 'dns',
  defaultEnabled: false,
  defaultInterval: 15_000,
  defaultTimeout: 10_000,
  reasons: DNS_REASONS,
  options: z.object({
    /** Fully qualified names to resolve; the API server's Service exists in every cluster. */
    names: z
      .array(z.string().regex(/^[A-Za-z0-9_]([-A-Za-z0-9_.]*[A-Za-z0-9.])?$/, 'expected a DNS name'))
      .min(1)
      .default(['kubernetes.default.svc.cluster.local']),
    type: z.enum(['A', 'AAAA']).default('A'),
    /** DNS servers to ask instead of the node's resolv.conf (the cluster DNS Service IP, say). */
    servers: z.array(server).optional(),
    /** Per lookup; no answer within it is a timeout. */
    lookupTimeout: duration({ min: 10 }).prefault('2s'),
    /** Lookups slower than this make the verdict a warning. */
    latencyWarning: duration({ min: 1 }).prefault('250ms'),
  }),
  correlate: correlateDns,
  create({ clock, registry }, opts) {
    const metrics = dnsMetrics(registry);
    const resolve = systemResolver({ servers: opts.servers, timeoutMs: opts.lookupTimeout });
    return { run: (signal) => dnsCheck({ resolve, clock, metrics }, opts, signal) };
  },
});
