import { systemClock } from '../clock.ts';
import { byCodeUnit } from '../compare.ts';
import type { FanoutResult, GatherReport } from '../status/cluster.ts';
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

/**
 * Nodes that lately failed as relays or did not answer at all: for a while they are asked last in
 * their group, so a dead node does not cost its group a replacement on every request. Bounded by
 * the nodes it is told of, each forgotten after `forMs`.
 */
export class RelayMemory {
  readonly #failed = new Map<string, number>();
  readonly #forMs: number;

  constructor(forMs = 60_000) {
    this.#forMs = forMs;
  }

  /** The nodes to pass over as relays now. */
  avoid(now: number): ReadonlySet<string> {
    for (const [node, at] of this.#failed) if (now - at > this.#forMs) this.#failed.delete(node);
    return new Set(this.#failed.keys());
  }

  remember(nodes: Iterable<string>, now: number): void {
    for (const n of nodes) this.#failed.set(n, now);
  }
}

/** One node's result, and the relay it came through when it came through one. */
export type Relayed = FanoutResult & { via?: string };

/** How the relays did for one request. */
export interface RelayReport extends GatherReport {
  foreign: { relay: string; node: string }[];
  /** Relays that failed or were replaced, and members not heard at all: poor relays for a while. */
  failed: string[];
}

export interface RelayOptions extends Omit<FanoutOptions, 'knownDown'> {
  groupSize: number;
  detail: RelayDetail;
  /** Peers this agent's own pings find down: answered from that, not relayed. */
  knownDown?: FanoutOptions['knownDown'];
  /** Nodes asked last in their group (they failed lately); still asked about as members. */
  avoid?: ReadonlySet<string>;
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
  const report: RelayReport = { groups: 0, answered: 0, replaced: 0, direct: 0, foreign: [], failed: [] };
  const asked: string[] = [];
  for (const p of peers) {
    const down = opts.knownDown?.(p.node);
    if (down) results.set(p.node, { ok: false, failure: down.failure, error: `not asked: down in this agent's pings since ${down.since} (${down.error})`, asked: false, downSince: down.since });
    else asked.push(p.node);
  }
  const avoid = opts.avoid ?? new Set<string>();
  // within a group the rendezvous order, nodes that failed lately last
  const groups = relayGroups(asked, opts.groupSize).map((g) => [...g.filter((n) => !avoid.has(n)), ...g.filter((n) => avoid.has(n))]);
  report.groups = groups.length;
  const deadline = opts.timeoutMs;
  // a relay's own fan-out gets 35 % of the deadline (its members' answers come in milliseconds: it
  // waits that long only on members that do not answer) and has until 45 % to answer before it is
  // replaced; a replacement gets the same from then on and answers by about 80 %, which leaves a
  // fifth of the deadline for members asked directly and the merge
  const relayMs = Math.max(50, Math.floor(deadline * 0.35));
  const replaceAt = deadline * 0.45;
  const detail = Object.entries(opts.detail)
    .filter(([, on]) => on)
    .map(([d]) => d)
    .join(',');
  const left = () => deadline - (clock.now() - start);

  /** Relays whose answer has begun to arrive: busy reading it, this agent does not replace them. */
  const answering = new Set<string>();
  const viaRelay = async (relay: string, members: readonly string[], heard: Map<string, Relayed>): Promise<boolean> => {
    const record = byNode.get(relay)!;
    const path = `/api/v1/status/relay?members=${members.map(encodeURIComponent).join(',')}&timeout=${relayMs}${detail ? `&detail=${detail}` : ''}`;
    // a relay slower than its own deadline is still heard until the end: a replacement asked
    // meanwhile runs beside it, and each member is taken from whichever answers first
    const got = (await fanout([record], path, relayAnswerCheck, { ...opts, concurrency: 1, timeoutMs: Math.max(1, left()), slowMs: deadline, knownDown: undefined, responded: (n) => answering.add(n) })).get(relay)!;
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
    const unheard = () => members.filter((m) => !heard.has(m));
    const running: Promise<boolean>[] = [];
    const relays = [members[0]!];
    /** Resolves once every member is heard, or `p` has settled, or at `ms` from now. */
    const until = (p: Promise<unknown>, ms = left()) =>
      new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, Math.max(0, ms));
        const done = () => (clock.clearTimeout(timer), resolve());
        void p.then(done, done);
        // a relay still running (the first, beside its replacement) ends the wait when it has heard everyone
        for (const q of running) void q.then(() => unheard().length === 0 && done());
      });
    const first = viaRelay(members[0]!, members, heard).then((ok) => (ok || report.failed.push(members[0]!), ok));
    running.push(first);
    await until(first, replaceAt - (clock.now() - start));
    // a busy agent (at its CPU limit, reading other relays' answers) sees its timer late and the
    // answers that came meanwhile later still: it lets them be read before it judges the relay, and
    // gives the relay as much more time as it was itself behind
    await new Promise((resolve) => setImmediate(resolve));
    const behind = clock.now() - start - replaceAt;
    if (unheard().length > 0 && !answering.has(members[0]!) && behind > deadline * 0.05) await until(first, Math.min(behind, left() - relayMs / 2));
    // an answer that has begun to arrive is waited for: on a busy agent, reading a hundred answers takes a while
    if (answering.has(members[0]!)) await until(first);
    if (unheard().length > 0 && members.length > 1 && left() > relayMs / 2) {
      report.replaced++;
      if (!answering.has(members[0]!)) report.failed.push(members[0]!);
      // the replacement asks for every member not yet heard, the first relay included; the first
      // may still answer meanwhile, and each member is taken from whichever answers first
      relays.push(members[1]!);
      const second = viaRelay(members[1]!, unheard(), heard).then((ok) => (ok || report.failed.push(members[1]!), ok));
      running.push(second);
      // a replacement that has not begun to answer by 80 % of the deadline is not waited for either:
      // the members still unheard are asked directly with the fifth that is left
      await until(second, deadline * 0.8 - (clock.now() - start));
      if (answering.has(members[1]!)) await until(second);
    } else if (unheard().length > 0) await until(first);
    const rest = unheard();
    if (rest.length > 0 && left() > 0) {
      report.direct += rest.length;
      const direct = await fanout(
        rest.map((n) => byNode.get(n)!),
        '/api/v1/status/local',
        localStatusCheck,
        { ...opts, timeoutMs: left(), knownDown: undefined },
      );
      for (const [node, r] of direct) if (!heard.has(node)) heard.set(node, resultOf(node, r));
    }
    // a relay still waiting (silent) is left to its timeout; what it sends later is not read
    for (const m of members) {
      const r = heard.get(m) ?? { ok: false, failure: 'timeout', error: `not heard: ${relays.length > 1 ? 'relays' : 'relay'} ${relays.join(', ')} did not answer for it within the ${deadline} ms deadline`, asked: false };
      if (!r.ok) report.failed.push(m);
      results.set(m, r);
    }
  };
  await Promise.all(groups.map(group));
  return { results, report };
}
