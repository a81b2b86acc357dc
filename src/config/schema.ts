import os from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';
import { defaultTimeout, timeoutProblem } from '../runner/jitter.ts';
import { describe, duration, listenAddress, quoteKeys } from './fields.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { peersSchema, type PeersConfig } from './peers.ts';

const ip = z.string().refine((s) => isIP(s) !== 0, { error: (iss) => `expected an IP address, got ${describe(iss.input)}` });

const nodeSchema = z.strictObject({
  name: z
    .string()
    .min(1, 'must not be empty')
    .default(() => os.hostname()),
  podIP: ip.optional(),
  hostIP: ip.optional(),
});

const count = (min: number, def: number) => z.number().int('must be a whole number').min(min).default(def);

/** See src/config/limits.ts for what each bounds; the defaults are kept there. */
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
  listenAddress: listenAddress.prefault(':10924'),
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
  /**
   * Set VigilPodStartup, VigilOverlayNetwork and VigilClock conditions on this agent's own Node,
   * with an Event on every transition; needs RBAC for nodes/status patch and events create.
   */
  nodeConditions: z.boolean().default(false),
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

/** What the schema needs to know of a probe: its name, its defaults and its own options. */
export interface ProbeSchemaSource {
  name: string;
  defaultEnabled: boolean;
  defaultInterval: number;
  defaultTimeout: number;
  options: z.ZodObject;
}

function probeSchema(def: ProbeSchemaSource) {
  return def.options
    .extend({
      enabled: z.boolean().default(def.defaultEnabled),
      interval: duration({ min: 1000 }).optional(),
      timeout: duration({ min: 100 }).optional(),
    })
    .strict()
    .transform((p, ctx) => {
      const interval = (p.interval as number | undefined) ?? def.defaultInterval;
      const timeout = (p.timeout as number | undefined) ?? defaultTimeout(interval, def.defaultTimeout);
      const problem = timeoutProblem(interval, timeout);
      if (problem) ctx.addIssue({ code: 'custom', path: ['timeout'], message: problem });
      return { ...p, interval, timeout };
    });
}

export function buildConfigSchema(probes: readonly ProbeSchemaSource[]) {
  const probeShape = Object.fromEntries(probes.map((d) => [d.name, probeSchema(d).prefault({})]));
  const known = probes.map((d) => d.name).join(', ');
  return z.strictObject({
    node: nodeSchema.prefault({}),
    web: webSchema.prefault({}),
    storage: storageSchema.prefault({}),
    log: logSchema.prefault({}),
    shutdown: shutdownSchema.prefault({}),
    kubernetes: kubernetesSchema.prefault({}),
    peers: peersSchema.prefault({}),
    probes: z.strictObject(probeShape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown probe${iss.keys.length > 1 ? 's' : ''} ${quoteKeys(iss.keys)} (known probes: ${known})` : undefined) }).prefault({}),
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
