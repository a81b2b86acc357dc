import { z } from 'zod';
import { parseIpAddress } from './address.ts';
import { timeoutProblem } from '../runner/jitter.ts';
import { describe, duration } from './fields.ts';

const peerAddressError = (input: unknown) => `expected an IP address with an optional :port, got ${describe(input)}`;

/** "ip" or "ip:port" or "[v6]:port"; the port defaults to the network's configured port. */
const peerAddress = () => z.string().refine((s) => parseIpAddress(s) !== undefined, { error: (iss) => peerAddressError(iss.input) });

/** The same, parsed here once: the IP and the port when one is given. */
const parsedPeerAddress = () =>
  z.string().transform((s, ctx) => {
    const a = parseIpAddress(s);
    if (!a) {
      ctx.addIssue({ code: 'custom', message: peerAddressError(s) });
      return z.NEVER;
    }
    return a;
  });

const port = z.number().int('must be a whole number').min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535');

const staticPeer = () =>
  z.strictObject({
    node: z.string().min(1, 'must not be empty'),
    /** The peer's agent on the pod network. */
    pod: parsedPeerAddress(),
    /** The peer's agent through the host network (a hostPort); optional. */
    host: parsedPeerAddress().optional(),
  });

export const peersSchema = z
  .strictObject({
    /** Where peers come from; several may be combined. None: the agent watches no peers. */
    discovery: z.array(z.enum(['kubernetes', 'static', 'dns'])).default([]),
    static: z.array(staticPeer()).default([]),
    dns: z
      .strictObject({
        /** A headless Service name whose A records are the agents' pod IPs. */
        name: z.string().min(1, 'must not be empty').optional(),
        refresh: duration({ min: 1000 }).prefault('30s'),
        /** DNS servers to ask ("ip" or "ip:port"); default: the system's resolvers. */
        servers: z.array(peerAddress()).optional(),
      })
      .prefault({}),
    kubernetes: z
      .strictObject({
        /** Selects the agents' DaemonSet pods in kubernetes.namespace (and never the probes' own pods). */
        labelSelector: z.string().min(1, 'must not be empty').default('app.kubernetes.io/name=vigil,!vigil.io/probe'),
      })
      .prefault({}),
    /** How many peers each agent pings; every node is watched by about k observers. */
    k: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(10),
    interval: duration({ min: 100 }).prefault('10s'),
    /** Per ping; at most 90 % of the interval, as for any probe's runs. */
    timeout: duration({ min: 50 }).prefault('2s'),
    /** The agents' port on the pod network; default: this agent's own listen port. */
    podPort: port.optional(),
    /** The agents' hostPort on the host network; absent: the host path is not probed. */
    hostPort: port.optional(),
    /** A file holding the shared token (mounted from a Secret); peers must present it. */
    tokenFile: z.string().min(1, 'must not be empty').optional(),
    /** Peer clocks further off than this are named in the cluster status. */
    clockOffsetThreshold: duration().prefault('300ms'),
    fanout: z
      .strictObject({
        timeout: duration({ min: 50 }).prefault('1s'),
        concurrency: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256').default(32),
        /**
         * Above this many nodes (this agent included) the cluster status is gathered through relays,
         * one per group of about `groupSize` nodes, instead of asking every peer from here.
         */
        relayAbove: z.number().int('must be a whole number').min(0, 'must be 0 or more').default(250),
        groupSize: z.number().int('must be a whole number').min(2, 'must be at least 2').max(256, 'must be at most 256').default(50),
      })
      .prefault({}),
    /** How peers are reached when the web config serves TLS (every agent runs the same web config). */
    tls: z
      .strictObject({
        caFile: z.string().min(1, 'must not be empty').optional(),
        certFile: z.string().min(1, 'must not be empty').optional(),
        keyFile: z.string().min(1, 'must not be empty').optional(),
        serverName: z.string().min(1, 'must not be empty').optional(),
      })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { error: 'certFile and keyFile go together', path: ['keyFile'] })
      .prefault({}),
    /** Largest answer accepted from a peer. */
    maxResponseBytes: z
      .number()
      .int('must be a whole number')
      .min(1024, 'must be at least 1024')
      .default(4 * 1024 * 1024),
  })
  .superRefine((p, ctx) => {
    const problem = timeoutProblem(p.interval, p.timeout);
    if (problem) ctx.addIssue({ code: 'custom', path: ['timeout'], message: problem });
    if (p.discovery.includes('static') && p.static.length === 0) ctx.addIssue({ code: 'custom', path: ['static'], message: 'must list at least one peer when discovery includes "static"' });
    if (p.discovery.includes('dns') && p.dns.name === undefined) ctx.addIssue({ code: 'custom', path: ['dns', 'name'], message: 'is required when discovery includes "dns"' });
    const seen = new Set<string>();
    p.static.forEach((s, i) => {
      if (seen.has(s.node)) ctx.addIssue({ code: 'custom', path: ['static', i, 'node'], message: `names node "${s.node}" twice` });
      seen.add(s.node);
    });
  });

export type PeersConfig = z.output<typeof peersSchema>;
