import { systemClock } from '../clock.ts';
import { byCodeUnit } from '../compare.ts';
import type { FanoutResult } from '../status/cluster.ts';
import { score } from './assign.ts';
import type { PeerRecord } from './directory.ts';
import { fanout, type FanoutOptions, type Fetched } from './fanout.ts';
import { expandMember, relayAnswerCheck, type RelayAnswer, type RelayDetail } from './relay-wire.ts';
import { localStatusCheck } from './status-check.ts';
import type { LocalStatusAnswer } from './wire.ts';

/**
 * The cluster status of a large cluster, gathered through relays. The asked agent splits the
 * nodes into groups of about `groupSize` by rendezvous hashing and asks each group's first-ranked
 * node, its relay, for its members' local statuses; the relay asks them (the flat fan-out, one
 * group wide) and sends them back in one compact answer. A relay that fails, or has not answered by
 * half the deadline, is replaced by the group's next-ranked node; members neither relay answered
 * for are asked directly with the time left. A dead relay costs time, not completeness.
 */

/** A ring number of its own, away from the mesh's rings (0 to k - 1, k at most 100). */
const GROUP_RING = 7_000_001;
const scores = new Map<string, bigint>();
const scoreOf = (node: string) => {
  let s = scores.get(node);
  if (s === undefined) {
    if (scores.size > 100_000) scores.clear(); // bounded: names come and go
    s = score(GROUP_RING, node);
    scores.set(node, s);
  }
  return s;
};

/** The nodes in groups of about `groupSize`; each group's nodes in relay order, its relay first. Pure: every agent groups the same names the same way. */
export function relayGroups(nodes: readonly string[], groupSize: number): string[][] {
  const count = Math.max(1, Math.round(nodes.length / groupSize));
  const groups = Array.from({ length: count }, () => [] as { node: string; s: bigint }[]);
  for (const node of nodes) {
    const s = scoreOf(node);
    groups[Number(s % BigInt(count))]!.push({ node, s });
  }
  return groups.filter((g) => g.length > 0).map((g) => g.sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : byCodeUnit(a.node, b.node))).map((x) => x.node));
}

/** One node's result, and the relay it came through when it came through one. */
export type Relayed = FanoutResult & { via?: string };

/** How the relays did for one request. */
export interface RelayReport {
  groups: number;
  /** Relays that answered. */
  answered: number;
  /** Groups whose first relay was replaced by the next. */
  replaced: number;
  /** Members asked directly because no relay answered for them. */
  direct: number;
  /** Entries a relay sent for nodes it was not asked about, dropped. */
  foreign: { relay: string; node: string }[];
}

export interface RelayOptions extends Omit<FanoutOptions, 'knownDown'> {
  groupSize: number;
  detail: RelayDetail;
  /** Peers this agent's own pings find down: answered from that, not relayed. */
  knownDown?: FanoutOptions['knownDown'];
}

/** Whether an answer for `node` is about `node`: an agent answering as another node is marked bad. */
export function resultOf(node: string, r: Fetched<LocalStatusAnswer>): FanoutResult {
  if (r.ok && r.value.node !== node) return { ok: false, failure: 'bad', error: `answered as node "${r.value.node.slice(0, 60)}"` };
  return r.ok ? { ok: true, status: r.value } : r;
}

/** The local status of every peer, through relays. Resolves by the deadline; every peer has a result. */
export async function relayedFanout(peers: readonly PeerRecord[], opts: RelayOptions): Promise<{ results: Map<string, Relayed>; report: RelayReport }> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  const results = new Map<string, Relayed>();
  const byNode = new Map(peers.map((p) => [p.node, p]));
  const report: RelayReport = { groups: 0, answered: 0, replaced: 0, direct: 0, foreign: [] };
  const asked: string[] = [];
  for (const p of peers) {
    const down = opts.knownDown?.(p.node);
    if (down) results.set(p.node, { ok: false, failure: down.failure, error: `not asked: down in this agent's pings since ${down.since} (${down.error})`, asked: false, downSince: down.since });
    else asked.push(p.node);
  }
  const groups = relayGroups(asked, opts.groupSize);
  report.groups = groups.length;
  const deadline = opts.timeoutMs;
  // a relay's own fan-out gets 40 % of the deadline, and its answer is awaited until half of it; a
  // replacement gets the same from then on, so both fit in the deadline with room for the merge
  const relayMs = Math.max(50, Math.floor(deadline * 0.4));
  const replaceAt = deadline / 2;
  const detail = Object.entries(opts.detail)
    .filter(([, on]) => on)
    .map(([d]) => d)
    .join(',');
  const left = () => deadline - (clock.now() - start);
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, Math.max(0, ms)));

  const viaRelay = async (relay: string, members: readonly string[], heard: Map<string, Relayed>): Promise<boolean> => {
    const record = byNode.get(relay)!;
    const path = `/api/v1/status/relay?members=${members.map(encodeURIComponent).join(',')}&timeout=${relayMs}${detail ? `&detail=${detail}` : ''}`;
    // the relay's own deadline, plus time for its answer to travel and be read
    const got = (await fanout([record], path, relayAnswerCheck, { ...opts, concurrency: 1, timeoutMs: Math.min(left(), relayMs + Math.floor(deadline * 0.1)), slowMs: deadline, knownDown: undefined })).get(relay)!;
    if (!got.ok) return false;
    const answer: RelayAnswer = got.value;
    if (answer.relay !== relay) return false;
    report.answered++;
    const wanted = new Set(members);
    for (const m of answer.members) {
      if (!wanted.has(m.node)) {
        report.foreign.push({ relay, node: m.node });
        continue;
      }
      if (heard.has(m.node)) continue;
      const r = expandMember(m);
      heard.set(m.node, { ...(r.ok && r.status.node !== m.node ? { ok: false, failure: 'bad', error: `relayed as node "${r.status.node.slice(0, 60)}"` } : r), via: relay });
    }
    return true;
  };

  const group = async (members: string[]) => {
    const heard = new Map<string, Relayed>();
    const first = viaRelay(members[0]!, members, heard);
    const settled = await Promise.race([first.then(() => true), sleep(replaceAt - (clock.now() - start)).then(() => false)]);
    let unheard = members.filter((m) => !heard.has(m));
    if ((!settled || unheard.length > 0) && members.length > 1 && left() > relayMs) {
      report.replaced++;
      // the replacement asks for every member not yet heard, the first relay included
      await Promise.all([first, viaRelay(members[1]!, unheard, heard)]);
    } else await first;
    unheard = members.filter((m) => !heard.has(m));
    if (unheard.length > 0 && left() > 0) {
      report.direct += unheard.length;
      const direct = await fanout(
        unheard.map((n) => byNode.get(n)!),
        '/api/v1/status/local',
        localStatusCheck,
        { ...opts, timeoutMs: left(), knownDown: undefined },
      );
      for (const [node, r] of direct) if (!heard.has(node)) heard.set(node, resultOf(node, r));
    }
    for (const m of members) results.set(m, heard.get(m) ?? { ok: false, failure: 'timeout', error: `not heard: relays ${members.slice(0, 2).join(', ')} did not answer for it within the ${deadline} ms deadline`, asked: false });
  };
  await Promise.all(groups.map(group));
  return { results, report };
}
