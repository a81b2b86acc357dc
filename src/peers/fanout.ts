import type { z } from 'zod';
import type { FailureKind } from '../status/cluster-types.ts';
import { PeerError, type PeerClient } from './client.ts';
import type { PeerRecord } from './directory.ts';
import { endpoints } from './mesh.ts';

export type Fetched<T> = { ok: true; value: T } | { ok: false; failure: FailureKind; error: string };

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface FanoutOptions {
  client: PeerClient;
  podPort: number;
  hostPort?: number;
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * GETs the same path from every peer, over the pod network and, when that fails for a reason
 * other than a refusal, over the host path. One bad peer costs at most the timeout per path.
 */
export async function fanout<S extends z.ZodType>(peers: readonly PeerRecord[], path: string | ((p: PeerRecord) => string), schema: S, opts: FanoutOptions): Promise<Map<string, Fetched<z.output<S>>>> {
  const results = await mapLimit(peers, opts.concurrency, async (p) => {
    const eps = endpoints(p, opts);
    let last: PeerError | undefined;
    for (const url of [eps.pod, eps.host]) {
      if (!url) continue;
      try {
        const value = await opts.client.get(url, typeof path === 'string' ? path : path(p), schema, { timeoutMs: opts.timeoutMs, signal: opts.signal });
        return [p.node, { ok: true, value }] as const;
      } catch (err) {
        last = err instanceof PeerError ? err : new PeerError('unreachable', String(err));
        if (last.kind === 'http' || last.kind === 'bad') break;
      }
    }
    return [p.node, { ok: false, failure: last?.kind ?? 'unreachable', error: last?.message ?? 'no address' }] as const;
  });
  return new Map(results as [string, Fetched<z.output<S>>][]);
}
