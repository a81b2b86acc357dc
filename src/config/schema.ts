import os from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.ts';
import { DEFAULT_LIMITS } from '../server/limits.ts';
import type { ProbeDefinition } from '../probes/probe.ts';
import { peersSchema, type PeersConfig } from '../peers/config.ts';

/** A duration such as "30s" or "1m30s", as milliseconds. */
export const duration = (opts: { min?: number } = {}) =>
  z.string({ error: (iss) => `expected a duration such as "30s" or "5m", got ${describe(iss.input)}` }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s" or "5m", got ${describe(text)}` });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(opts.min)}, got ${describe(text)}` });
      return z.NEVER;
    }
    return ms;
  });

export const ratio = () => z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

/** host:port, [v6]:port or :port, with a port in 1–65535 (0 allowed: pick a free port). */
export const listenAddress = z.string().refine((s) => parseListenAddress(s) !== undefined, {
  error: (iss) => `expected host:port or :port with a port from 0 to 65535, got ${describe(iss.input)}`,
});

export function parseListenAddress(s: string): { host: string | undefined; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(m[1]) !== 6) return undefined;
  return { host: host === '' ? undefined : host, port };
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  return typeof value;
}

/** Unknown keys as a short, escaped list: a hostile file must not produce a huge or multi-line message. */
export function quoteKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 5).map((k) => describe(k));
  return keys.length > 5 ? `${shown.join(', ')} and ${keys.length - 5} more` : shown.join(', ');
}

const ip = z.string().refine((s) => isIP(s) !== 0, { error: (iss) => `expected an IP address, got ${describe(iss.input)}` });

const nodeSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').default(() => os.hostname()),
  podIP: ip.optional(),
  hostIP: ip.optional(),
});

const count = (min: number, def: number) => z.number().int('must be a whole number').min(min).default(def);

/** See src/server/limits.ts for what each bounds; the defaults are kept there. */
const webLimitsSchema = z.strictObject({
  maxConnections: count(1, DEFAULT_LIMITS.maxConnections),
  maxConcurrentRequests: count(1, DEFAULT_LIMITS.maxConcurrentRequests),
  maxRequestBodyBytes: count(0, DEFAULT_LIMITS.maxRequestBodyBytes),
  maxHeaderBytes: count(1024, DEFAULT_LIMITS.maxHeaderBytes),
  headerTimeout: duration({ min: 100 }).default(DEFAULT_LIMITS.headerTimeout),
  requestTimeout: duration({ min: 100 }).default(DEFAULT_LIMITS.requestTimeout),
  idleTimeout: duration({ min: 100 }).default(DEFAULT_LIMITS.idleTimeout),
});

const webSchema = z.strictObject({
  listenAddress: listenAddress.default(':10924'),
  /** exporter-toolkit's web config file: TLS, basic auth users, extra headers. */
  configFile: z.string().min(1, 'must not be empty').optional(),
  limits: webLimitsSchema.prefault({}),
});

const storageSchema = z.strictObject({
  path: z.string().min(1, 'must not be empty').default('./data'),
  retention: duration({ min: 60_000 }).prefault('7d'),
});

const logSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

const kubernetesSchema = z.strictObject({
  /** A kubeconfig file; absent: the in-cluster service account. */
  kubeconfig: z.string().min(1, 'must not be empty').optional(),
  context: z.string().min(1, 'must not be empty').optional(),
  /** The namespace vigil runs in; default $POD_NAMESPACE, else "vigil". */
  namespace: z
    .string()
    .refine((s) => s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s), { error: (iss) => `expected a Kubernetes namespace name (lower-case letters, digits and dashes), got ${describe(iss.input)}` })
    .default('vigil'),
});

const shutdownSchema = z.strictObject({
  gracePeriod: duration().prefault('10s'),
});

/** Fields every probe accepts besides its own options. */
export interface ProbeCommon {
  enabled: boolean;
  interval: number;
  timeout: number;
}

function probeSchema(def: ProbeDefinition) {
  return def.options
    .extend({
      enabled: z.boolean().default(def.defaultEnabled),
      interval: duration({ min: 1000 }).optional(),
      timeout: duration({ min: 100 }).optional(),
    })
    .strict()
    .transform((p, ctx) => {
      const interval = (p.interval as number | undefined) ?? def.defaultInterval;
      const timeout = (p.timeout as number | undefined) ?? Math.min(def.defaultTimeout, Math.floor(interval * 0.9));
      if (timeout >= interval) {
        ctx.addIssue({ code: 'custom', path: ['timeout'], message: `must be shorter than the interval (${formatDuration(interval)}), got ${formatDuration(timeout)}` });
      }
      return { ...p, interval, timeout };
    });
}

export function buildConfigSchema(probes: readonly ProbeDefinition[]) {
  const probeShape = Object.fromEntries(probes.map((d) => [d.name, probeSchema(d).prefault({})]));
  const known = probes.map((d) => d.name).join(', ');
  return z.strictObject({
    node: nodeSchema.prefault({}),
    web: webSchema.prefault({}),
    storage: storageSchema.prefault({}),
    log: logSchema.prefault({}),
    shutdown: shutdownSchema.prefault({}),
    kubernetes: kubernetesSchema.prefault({}),
    peers: peersSchema().prefault({}),
    probes: z
      .strictObject(probeShape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown probe${iss.keys.length > 1 ? 's' : ''} ${quoteKeys(iss.keys)} (known probes: ${known})` : undefined) })
      .prefault({}),
  });
}

export type NodeIdentity = z.output<typeof nodeSchema>;

export interface Config {
  node: NodeIdentity;
  web: z.output<typeof webSchema>;
  storage: z.output<typeof storageSchema>;
  log: z.output<typeof logSchema>;
  shutdown: z.output<typeof shutdownSchema>;
  kubernetes: z.output<typeof kubernetesSchema>;
  peers: PeersConfig;
  probes: Record<string, ProbeCommon & Record<string, unknown>>;
}
