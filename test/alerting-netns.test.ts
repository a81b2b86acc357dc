// What reaches a person when the network between live hosts fails: five real agents on simulated
// hosts (network namespaces, each with a host and a pod network), real Prometheus and
// Alertmanager on a sixth host, scraping the agents over the pod network as a ServiceMonitor
// does, the shipped rules and Alertmanager configuration with time compressed fifteenfold (the
// notification matrix runs the same rows on synthetic series; these are the live ones). Each
// fault, from a quiet cluster back to a quiet cluster: exactly the notifications wanted, nothing
// else firing or even pending in Prometheus, nothing at recovery.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebhookReceiver, rulesScaled, startAlertmanager, startPrometheus, type Alertmanager, type Prometheus } from './support/monitoring.ts';
import { relayIntoNamespace } from './support/netns-relay.ts';
import { createTopology, run, type Topology } from './support/netns.ts';
import { removeDir, startAll, startPeerAgent, waitFor, type PeerAgent } from './support/peer-agents.ts';
import { BUNDLED_RULES } from './support/stack.ts';

const AGENTS = ['a', 'b', 'c', 'd', 'e'];
/** The host Prometheus and Alertmanager run on (a node without an agent of its own). */
const MON = 'mon';
const PORT = 10925;
/** Time compression: the shipped 30 s scrape becomes 2 s, a 2m window 8 s, a 10m one 40 s. */
const FACTOR = 15;
const WEBHOOK_PORT = 9095;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
/** A notification wanted: its alert name and the labels that name the problem, and the receiver. */
interface Wanted {
  alertname: string;
  labels: Record<string, string>;
  receiver: 'pager' | 'team';
}

void describe('alerts from live hosts: node down, partition, broken pod network', { timeout: 900_000 }, () => {
  let topo: Topology | undefined;
  let webhook: WebhookReceiver | undefined;
  let webhookRelay: { close(): Promise<void> } | undefined;
  let alertmanager: Alertmanager | undefined;
  let prometheus: Prometheus | undefined;
  const agents: PeerAgent[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-alert-netns-'));
  const host = (n: string) => topo!.hosts.find((h) => h.name === n)!;
  const agent = (n: string) => agents.find((a) => a.name === n)!;
  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  };
  /** When each of these alerts was pending or firing since `from` (one range per series, first to last sample). */
  const alertRanges = async (names: string[], from: number): Promise<{ labels: Record<string, string>; fromMs: number; toMs: number }[]> => {
    if (names.length === 0) return [];
    const params = new URLSearchParams({ query: `ALERTS{alertname=~"${names.join('|')}"}`, start: String(from / 1000), end: String(Date.now() / 1000), step: '1' });
    const body = (await (await fetch(`${prometheus!.url}/api/v1/query_range?${params}`)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
    return body.data.result.map((r) => ({ labels: r.metric, fromMs: r.values[0]![0] * 1000, toMs: r.values.at(-1)![0] * 1000 }));
  };
  /** The same, in seconds after `from`, for a failure message. */
  const alertHistory = async (names: string[], from: number): Promise<string> =>
    (await alertRanges(names, from)).map((r) => `${JSON.stringify(r.labels)} from ${((r.fromMs - from) / 1000).toFixed(0)} s to ${((r.toMs - from) / 1000).toFixed(0)} s`).join('; ');
  /** The agents' peer-reachability rules all clear, every scrape of the AgentDown window answered, nothing pending or firing. */
  const quiet = () =>
    waitFor(
      'a quiet cluster: every target scraped through the AgentDown window, every peer reached, no alert pending or firing',
      async () => {
        const [scraped, unclean, alerts] = await Promise.all([
          query(`min_over_time(up{job="vigil"}[${600 / FACTOR}s]) == 1`),
          query('cluster_node:vigil_peers_unreachable:ratio > 0 or cluster_node:vigil_peers_overlay_broken:ratio > 0 or node_peer:vigil_overlay_link_broken:bool'),
          query('ALERTS'),
        ]);
        return scraped.length === AGENTS.length && unclean.length === 0 && alerts.length === 0 ? true : undefined;
      },
      240_000,
    );

  /**
   * From a quiet cluster: the fault, the wanted notifications, `held` (the condition an excluded
   * alert would have fired on, held for longer than its `for`), the heal, the wanted alerts
   * resolved, a quiet cluster again. Then exactly the wanted firing and resolved notifications
   * arrived, and Prometheus had no other alert even pending over the whole time.
   */
  const scenario = async (
    t: { diagnostic(s: string): void },
    s: {
      fault(): Promise<void>;
      heal(): Promise<void>;
      want: Wanted[];
      held?: { expr: string; what: string };
      /** An alert whose `for` is there to let the wanted one take shape first: it may be pending (never firing) until then. */
      onset?: { pending: string; why: string };
    },
  ) => {
    await quiet();
    const faultAt = Date.now();
    await s.fault();
    let firedAt = 0;
    try {
      for (const w of s.want) {
        const f = await waitFor(`${w.alertname} ${JSON.stringify(w.labels)} at the webhook`, () => Promise.resolve(webhook!.find('firing', { alertname: w.alertname, ...w.labels }, faultAt)), 120_000);
        firedAt = Math.max(firedAt, f.receivedAt);
      }
      if (s.held) {
        const { expr, what } = s.held;
        // Held at every evaluation for twice the longest `for` it could meet (AgentDown's 2m).
        const steps = (2 * 120) / FACTOR / 2;
        await waitFor(what, async () => ((await query(`count_over_time((${expr})[${2 * steps}s:2s]) >= ${steps}`)).length > 0 ? true : undefined), 120_000);
      }
    } finally {
      await s.heal();
    }
    const healedAt = Date.now();
    for (const w of s.want) await waitFor(`${w.alertname} ${JSON.stringify(w.labels)} resolved at the webhook`, () => Promise.resolve(webhook!.find('resolved', { alertname: w.alertname, ...w.labels }, healedAt)), 120_000);
    await quiet();
    const seconds = Math.ceil((Date.now() - faultAt) / 1000);

    const since = webhook!.notifications.filter((n) => n.receivedAt >= faultAt);
    const firing = since.flatMap((n) => n.alerts.filter((a) => a.status === 'firing').map((a) => ({ n, a })));
    const named = (x: { alertname?: string; labels: Record<string, string> }) =>
      [
        x.labels.alertname ?? x.alertname,
        ...Object.entries(x.labels)
          .filter(([k]) => k !== 'alertname' && k !== 'severity')
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
      ].join(' ');
    const wanted = s.want.map((w) => named({ alertname: w.alertname, labels: w.labels })).sort();
    assert.deepEqual(firing.map(({ a }) => named(a)).sort(), wanted, 'each wanted alert notified once as firing, and nothing else');
    for (const w of s.want) {
      const f = firing.find(({ a }) => a.labels.alertname === w.alertname && Object.entries(w.labels).every(([k, v]) => a.labels[k] === v))!;
      assert.equal(f.n.receiver, w.receiver, `${w.alertname} to the ${w.receiver}`);
    }
    assert.equal(new Set(firing.map(({ n }) => n)).size, 1, 'one notification for the problem');
    const resolved = since.flatMap((n) => n.alerts.filter((a) => a.status === 'resolved'));
    assert.deepEqual(resolved.map((a) => named(a)).sort(), wanted, 'each resolved once, nothing else');
    const seen = await query(`group by (alertname, alertstate) (count_over_time(ALERTS[${seconds}s]))`);
    const others = seen.filter((x) => !s.want.some((w) => w.alertname === x.metric.alertname));
    const history = async () =>
      `(fault at 0 s, notified at ${((firedAt - faultAt) / 1000).toFixed(0)} s, healed at ${((healedAt - faultAt) / 1000).toFixed(0)} s): ${await alertHistory(
        others.map((x) => x.metric.alertname!),
        faultAt,
      )}`;
    const unexplained = others.filter((x) => !(s.onset && x.metric.alertname === s.onset.pending && x.metric.alertstate === 'pending'));
    assert.deepEqual(
      unexplained.map((x) => `${x.metric.alertname} ${x.metric.alertstate}`),
      [],
      `no other alert so much as pending in Prometheus ${await history()}`,
    );
    if (s.onset) {
      const until = Math.max(0, ...(await alertRanges([s.onset.pending], faultAt)).map((r) => r.toMs));
      assert.ok(until <= firedAt, `${s.onset.pending} pending only while ${s.want[0]!.alertname} took shape (${s.onset.why}) ${await history()}`);
    }
    t.diagnostic(`compressed ×${FACTOR}: fault -> notification ${((firedAt - faultAt) / 1000).toFixed(1)} s; heal -> quiet again ${((Date.now() - healedAt) / 1000).toFixed(1)} s`);
  };

  before(async () => {
    topo = await createTopology([...AGENTS, MON]);
    const mon = host(MON);
    webhook = await WebhookReceiver.start();
    webhookRelay = await relayIntoNamespace({ ns: mon.ns, host: '127.0.0.1', port: WEBHOOK_PORT, target: { host: '127.0.0.1', port: Number(new URL(webhook.url).port) }, dir });
    const peers = AGENTS.map((n) => ({ node: n, pod: `${host(n).podIP}:${PORT}`, host: `${host(n).hostIP}:${PORT}` }));
    agents.push(
      ...(await startAll(
        AGENTS.map((n) => () => {
          mkdirSync(path.join(dir, n));
          return startPeerAgent({
            name: n,
            url: `http://${host(n).podIP}:${PORT}`,
            netns: host(n).ns,
            dir: path.join(dir, n),
            config: {
              node: { podIP: host(n).podIP, hostIP: host(n).hostIP },
              web: { listenAddress: `0.0.0.0:${PORT}` },
              // The mesh alone: no probe reads this machine's disks or memory.
              probes: { node: { enabled: false } },
              peers: { discovery: ['static'], static: peers, interval: '1s', timeout: '800ms', fanout: { timeout: '900ms' } },
            },
          });
        }),
      )),
    );
    const rulesFile = path.join(dir, 'rules.yml');
    rulesScaled(BUNDLED_RULES, 1 / FACTOR, rulesFile);
    const netns = { ns: mon.ns, dir };
    alertmanager = await startAlertmanager({ dir: path.join(dir, 'alertmanager'), port: 9093, webhookUrl: `http://127.0.0.1:${WEBHOOK_PORT}/alerts`, scale: 1 / FACTOR, netns });
    // The pod addresses, as a ServiceMonitor's endpoints give them: a scrape crosses the pod network.
    prometheus = await startPrometheus({
      dir: path.join(dir, 'prometheus'),
      port: 9090,
      targets: AGENTS.map((n) => ({ address: `${host(n).podIP}:${PORT}`, node: n })),
      rulesFile,
      alertmanagerUrl: alertmanager.innerUrl,
      scrapeInterval: '2s',
      evaluationInterval: '2s',
      netns,
    });
  });

  after(async () => {
    for (const a of agents) if (a.child.pid) process.kill(a.child.pid, 'SIGCONT');
    await Promise.all(agents.map((a) => a.kill()));
    await prometheus?.stop();
    await alertmanager?.stop();
    await webhookRelay?.close();
    await webhook?.stop();
    await topo?.destroy();
    removeDir(dir);
  });

  void it('a node down (its links cut, its processes frozen): one page naming it, not its agent', async (t) => {
    const c = host('c');
    const links = (state: 'up' | 'down') => Promise.all(['host0', 'pod0'].map((l) => run('ip', ['-n', c.ns, 'link', 'set', l, state])));
    await scenario(t, {
      async fault() {
        process.kill(agent('c').child.pid!, 'SIGSTOP');
        await links('down');
      },
      async heal() {
        await links('up');
        process.kill(agent('c').child.pid!, 'SIGCONT');
      },
      want: [{ alertname: 'VigilNodeUnreachable', labels: { node: 'c' }, receiver: 'pager' }],
      held: { expr: `(1 - avg_over_time(up{job="vigil", node="c"}[${600 / FACTOR}s])) > 0.25`, what: "node c's agent failing scrapes as VigilAgentDown counts them, for longer than its `for`" },
    });
  });

  void it('a partition, two of five nodes cut off from the rest and from Prometheus: one page naming the split', async (t) => {
    const minority = ['d', 'e'];
    const majority = ['a', 'b', 'c', MON];
    await scenario(t, {
      async fault() {
        // One rule per host, all hosts at once: the split comes in one moment, as a failing switch makes it.
        const cut = (x: string, from: string[]) => topo!.exec(x, 'nft', ['add', 'rule', 'inet', 'vigiltest', 'input', 'ip', 'saddr', `{ ${from.flatMap((y) => [host(y).hostIP, host(y).podIP]).join(', ')} }`, 'drop']);
        await Promise.all([...minority.map((x) => cut(x, majority)), ...majority.map((y) => cut(y, minority))]);
      },
      heal: () => topo!.heal(),
      want: [{ alertname: 'VigilNetworkPartition', labels: {}, receiver: 'pager' }],
      onset: { pending: 'VigilNodeUnreachable', why: "d's and e's shares of observers cross half at evaluations a moment apart: one reads unreachable alone for an evaluation, and the node alert waits a minute for that" },
      held: {
        expr: `(1 - avg_over_time(up{job="vigil", node=~"d|e"}[${600 / FACTOR}s])) > 0.25 and on (node) (cluster_node:vigil_peers_unreachable:ratio > 0.5)`,
        what: "d's and e's agents failing scrapes and unreachable, as VigilAgentDown and VigilNodeUnreachable count them, for longer than their `for`",
      },
    });
  });

  void it("a node's pod network dead, its host network fine: one page naming the overlay, not the agent Prometheus cannot scrape", async (t) => {
    const c = host('c');
    await scenario(t, {
      fault: () => run('ip', ['-n', c.ns, 'link', 'set', 'pod0', 'down']).then(() => undefined),
      heal: () => run('ip', ['-n', c.ns, 'link', 'set', 'pod0', 'up']).then(() => undefined),
      want: [{ alertname: 'VigilOverlayNetworkBroken', labels: { node: 'c' }, receiver: 'pager' }],
      onset: { pending: 'VigilOverlayLinkBroken', why: "the observers' windows cross half at different evaluations: a link can read broken an evaluation before most of c's do, and the link alert waits 5 minutes for that" },
      held: {
        expr: `(1 - avg_over_time(up{job="vigil", node="c"}[${600 / FACTOR}s])) > 0.25 and on (node) node_peer:vigil_overlay_link_broken:bool`,
        what: "node c's agent failing scrapes and its links broken, as VigilAgentDown and VigilOverlayLinkBroken count them, for longer than their `for`",
      },
    });
  });

  void it('the pod network broken between two hosts only: one warning naming the pair', async (t) => {
    await scenario(t, {
      async fault() {
        await topo!.drop('a', 'b', ['pod']);
        await topo!.drop('b', 'a', ['pod']);
      },
      heal: () => topo!.heal(),
      want: [
        { alertname: 'VigilOverlayLinkBroken', labels: { node: 'a', peer_node: 'b' }, receiver: 'team' },
        { alertname: 'VigilOverlayLinkBroken', labels: { node: 'b', peer_node: 'a' }, receiver: 'team' },
      ],
    });
  });
});
