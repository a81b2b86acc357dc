import { z } from 'zod';
import { parseListenAddress } from './address.ts';
import { formatDuration, parseDuration } from './duration.ts';

/**
 * Schema pieces shared by every section of the config, the probes' options included. A leaf:
 * the config schema, the peers' section and each probe's options build on it, never the reverse.
 */

/** A value as an error message shows it: short, quoted, one line. */
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

/** A parsed address, with the text it was written as (for messages). */
export type ListenAddress = { text: string; host: string | undefined; port: number };

/** host:port, [v6]:port or :port, with a port in 0–65535 (0: pick a free port); parsed here, once. */
export const listenAddress = z.string().transform((s, ctx): ListenAddress => {
  const a = parseListenAddress(s);
  if (!a) {
    ctx.addIssue({ code: 'custom', message: `expected host:port or :port with a port from 0 to 65535, got ${describe(s)}` });
    return z.NEVER;
  }
  return { text: s, ...a };
});
