import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { FailureKind } from '../status/cluster-types.ts';
import { PeerError, type PeerClient } from './client.ts';
import type { PeerRecord } from './directory.ts';
import { endpoints } from './mesh.ts';
import type { WireSchema } from './wire.ts';

/**
 * What the fan-out got from one peer. A failure with `asked: false` was never sent: the deadline
 * came first, or this agent's own pings already say the peer is down (`downSince`).
 */
export type Fetched<T> = { ok: true; value: T } | { ok: false; failure: FailureKind; error: string; asked?: false; downSince?: string };

/** What this agent's own pings say of a peer that is down on every network it has. */
export interface KnownDown {
  failure: FailureKind;
  error: string;
  since: string;
}

export interface FanoutOptions {
  client: PeerClient;
  podPort: number;
  hostPort?: number;
  /** Requests waiting on an answer at once; a request slower than `slowMs` stops counting. */
  concurrency: number;
  /** One deadline for the whole fan-out: whatever has not answered by then is reported as timed out. */
  timeoutMs: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Peers this agent already knows to be down are answered from that, not asked. */
  knownDown?: (node: string) => KnownDown | undefined;
  /**
   * A request unanswered this long gives its slot to the next peer and goes on until the deadline:
   * silent peers cost a socket each, not the others' turn. Default: a tenth of the deadline.
   */
  slowMs?: number;
  /** How long the pod path may take to connect before the host path is tried as well. Default: a fifth of the deadline, at most 200 ms. */
  hostDelayMs?: number;
  /** Called when a peer's answer has begun to arrive (its status line), before it is read and checked. */
  responded?: (node: string) => void;
}

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

const transportFailure = (e: PeerError) => e.kind !== 'http' && e.kind !== 'bad';

/**
 * GETs the same path from every peer within one deadline. Each peer is asked over the pod network
 * and, when that has not connected after a short head start or has failed for a reason other than
 * an unusable answer, over the host path too; the first answer wins and the other is dropped.
 */
export async function fanout<T>(peers: readonly PeerRecord[], path: string | ((p: PeerRecord) => string), schema: WireSchema<T>, opts: FanoutOptions): Promise<Map<string, Fetched<T>>> {
  const clock = opts.clock ?? systemClock;
  const results = new Map<string, Fetched<T>>();
  const deadline = new AbortController();
  const timer = clock.setTimeout(() => deadline.abort(new DOMException(`timeout after ${opts.timeoutMs} ms`, 'TimeoutError')), opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  const slowMs = opts.slowMs ?? Math.max(10, opts.timeoutMs / 10);
  const hostDelayMs = opts.hostDelayMs ?? Math.min(200, opts.timeoutMs / 5);
  const late = `no answer within the ${opts.timeoutMs} ms deadline`;

  // the deadline's signal ends a request before its own timeout (as long as the whole deadline) can
  const fail = (e: PeerError): Fetched<T> => ({ ok: false, failure: e.kind, error: e.kind === 'timeout' && !opts.signal?.aborted ? late : e.message });

  const ask = (p: PeerRecord): Promise<Fetched<T>> => {
    const eps = endpoints(p, opts);
    const own = new AbortController();
    const mine = AbortSignal.any([signal, own.signal]);
    const get = (url: string, connected?: () => void) => opts.client.get(url, typeof path === 'string' ? path : path(p), schema, { timeoutMs: opts.timeoutMs, signal: mine, connected, responded: () => opts.responded?.(p.node) });
    return new Promise((resolve) => {
      let settled = false;
      let podError: PeerError | undefined;
      let hostError: PeerError | undefined;
      let hostTried = false;
      let hostTimer: TimerHandle | undefined;
      const settle = (r: Fetched<T>) => {
        if (settled) return;
        settled = true;
        if (hostTimer) clock.clearTimeout(hostTimer);
        own.abort();
        resolve(r);
      };
      const answered = (v: T) => settle({ ok: true, value: v });
      const failedBoth = () => {
        if (!podError || (eps.host && !hostError)) return;
        // an unusable answer says more than a path that went nowhere; otherwise the host path's verdict
        settle(fail(!transportFailure(podError) || !hostError ? podError : hostError));
      };
      const tryHost = () => {
        if (hostTried || settled || !eps.host) return;
        hostTried = true;
        get(eps.host).then(answered, (err: unknown) => {
          hostError = asPeerError(err);
          failedBoth();
        });
      };
      if (eps.host) hostTimer = clock.setTimeout(tryHost, hostDelayMs);
      // a pod path that newly connects works: waiting on the agent, the host path would only double its
      // work (a reused keep-alive socket does not count: the path under it may have broken since)
      const podConnected = () => {
        if (hostTimer) clock.clearTimeout(hostTimer);
      };
      get(eps.pod!, podConnected).then(answered, (err: unknown) => {
        podError = asPeerError(err);
        if (!transportFailure(podError)) settle(fail(podError));
        else {
          tryHost();
          failedBoth();
        }
      });
    });
  };

  let next = 0;
  let waiting = 0;
  let open = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (next < peers.length && waiting < opts.concurrency && !signal.aborted) {
        const p = peers[next++]!;
        const down = opts.knownDown?.(p.node);
        if (down) {
          results.set(p.node, { ok: false, failure: down.failure, error: `not asked: down in this agent's pings since ${down.since} (${down.error})`, asked: false, downSince: down.since });
          continue;
        }
        waiting++;
        open++;
        let holding = true;
        const release = () => {
          if (!holding) return;
          holding = false;
          waiting--;
          pump();
        };
        const slow = clock.setTimeout(release, slowMs);
        void ask(p).then((r) => {
          results.set(p.node, r);
          clock.clearTimeout(slow);
          open--;
          release();
          pump();
        });
      }
      if (open === 0 && (next >= peers.length || signal.aborted)) resolve();
    };
    pump();
  });
  clock.clearTimeout(timer);
  for (const p of peers) if (!results.has(p.node)) results.set(p.node, { ok: false, failure: 'timeout', error: `not asked: the ${opts.timeoutMs} ms deadline passed first`, asked: false });
  return results;
}

function asPeerError(err: unknown): PeerError {
  return err instanceof PeerError ? err : new PeerError('unreachable', String(err));
}
