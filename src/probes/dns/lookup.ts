import { promises as dns } from 'node:dns';
import type { DnsMetrics } from '../../metrics/metrics.ts';
import type { Clock } from '../../clock.ts';
import type { ProbeResult } from '../../verdict.ts';
import { ms, resultOf, type Problem } from '../problems.ts';

/** Resolves a name to addresses; rejects with a node:dns error (err.code ENOTFOUND, ESERVFAIL, ...). */
export type ResolveFn = (name: string, type: 'A' | 'AAAA', signal: AbortSignal) => Promise<string[]>;

export const DNS_REASONS = ['nxdomain', 'no-answer', 'servfail', 'refused', 'timeout', 'slow', 'dns-error'] as const;
type DnsReason = (typeof DNS_REASONS)[number];

/** The verdict reason and the words for a node:dns error code. */
export function classifyDnsError(code: string | undefined): { reason: DnsReason; text: string } {
  switch (code) {
    case 'ENOTFOUND':
      return { reason: 'nxdomain', text: 'no such name (NXDOMAIN)' };
    case 'ENODATA':
      return { reason: 'no-answer', text: 'the name exists but has no record of this type' };
    case 'ESERVFAIL':
      return { reason: 'servfail', text: 'the server failed to answer (SERVFAIL)' };
    case 'EREFUSED':
      return { reason: 'refused', text: 'the server refused the query (REFUSED)' };
    case 'ECONNREFUSED':
      return { reason: 'refused', text: "nothing listens on the DNS server's port (connection refused)" };
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return { reason: 'timeout', text: 'no answer in time' };
    default:
      return { reason: 'dns-error', text: `lookup failed (${code ?? 'unknown error'})` };
  }
}

/** A resolver on the node's DNS configuration (/etc/resolv.conf), or on the given servers. */
export function systemResolver(opts: { servers?: string[]; timeoutMs: number }): ResolveFn {
  return async (name, type, signal) => {
    const r = new dns.Resolver({ timeout: opts.timeoutMs, tries: 1 });
    if (opts.servers?.length) r.setServers(opts.servers);
    const onAbort = () => r.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return type === 'A' ? await r.resolve4(name) : await r.resolve6(name);
    } catch (err) {
      if (signal.aborted) throw signal.reason as Error;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}

export interface DnsCheckOptions {
  names: string[];
  type: 'A' | 'AAAA';
  latencyWarning: number;
}

/** One run: every name resolved in turn, timed, judged. */
export async function dnsCheck(deps: { resolve: ResolveFn; clock: Clock; metrics: DnsMetrics }, opts: DnsCheckOptions, signal: AbortSignal): Promise<ProbeResult> {
  const { resolve, clock, metrics } = deps;
  const problems: Problem[] = [];
  const observations: Record<string, number | string> = {};
  for (const name of opts.names) {
    const t0 = clock.now();
    try {
      const addrs = await resolve(name, opts.type, signal);
      const took = clock.now() - t0;
      metrics.dnsLookupDuration.observe(took / 1000);
      observations[`${name} seconds`] = took / 1000;
      observations[name] = addrs.join(',');
      if (took > opts.latencyWarning) problems.push({ verdict: 'warning', reason: 'slow', text: `${name} resolved in ${ms(took)} (warning above ${ms(opts.latencyWarning)})` });
    } catch (err) {
      if (signal.aborted) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const c = classifyDnsError(code);
      // An answer, even a negative one, is a latency worth recording; a timeout is not.
      if (c.reason !== 'timeout') metrics.dnsLookupDuration.observe((clock.now() - t0) / 1000);
      problems.push({ verdict: 'critical', reason: c.reason, text: `${name} (${opts.type}): ${c.text}${c.reason === 'timeout' ? ` after ${ms(clock.now() - t0)}` : ''}` });
    }
  }
  return resultOf(problems, () => opts.names.map((n) => `${n} resolved in ${ms((observations[`${n} seconds`] as number) * 1000)}`).join(', '), observations);
}
