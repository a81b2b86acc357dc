import type { Cause } from './cluster-types.ts';
import { clockReading } from './consensus.ts';
import type { CauseInput, Edge, EdgeIndex } from './reachability.ts';
import { earliest, iso } from './when.ts';

/**
 * A node named for its clock only by consensus: at least two observers whose offsets for it agree
 * with each other (a majority within the threshold of their median) and put it beyond the
 * threshold. One observer alone proves nothing: a skewed observer sees every healthy peer skewed.
 * Two nodes alone cannot tell which clock is off; they are named together.
 */
export function clockCauses(input: CauseInput, byPeer: EdgeIndex): Cause[] {
  const t = input.clockOffsetThresholdSeconds;
  const out: Cause[] = [];
  for (const peer of [...byPeer.keys()].sort()) {
    // one offset per observer, the pod path's when it has both
    const perObserver = new Map<string, Edge>();
    for (const e of byPeer.get(peer)!) {
      if (e.clockOffsetSeconds === null || !e.up) continue;
      const had = perObserver.get(e.observer);
      if (!had || e.network === 'pod') perObserver.set(e.observer, e);
    }
    const seen = [...perObserver.values()];
    if (seen.length === 0) continue;
    const reading = clockReading(
      seen.map((e) => e.clockOffsetSeconds!),
      t,
    );
    const m = reading.median;
    if (Math.abs(m) <= t) continue;
    const agreeing = seen.filter((e) => reading.agrees(e.clockOffsetSeconds!));
    const since = iso(earliest(agreeing.map((e) => e.clockOffSince)));
    if (reading.consensus) {
      out.push({
        kind: 'clock-offset',
        severity: 'warning',
        nodes: [peer],
        since,
        message: `clock of ${peer} is ${Math.abs(m).toFixed(3)} s ${m > 0 ? 'ahead of' : 'behind'} ${agreeing.length} of ${seen.length} observers, which agree with each other (threshold ${t} s)`,
      });
    } else if (input.nodes.length === 2 && seen.length === 1 && peer < seen[0]!.observer) {
      const other = seen[0]!.observer;
      out.push({
        kind: 'clock-offset',
        severity: 'warning',
        nodes: [peer, other],
        since,
        message: `clocks of ${peer} and ${other} differ by ${Math.abs(m).toFixed(3)} s (threshold ${t} s); with two nodes there is no third to say which is off`,
      });
    }
  }
  return out;
}
