// The example Alertmanager configuration (alerts/alertmanager.yml): amtool accepts it, and real
// Alertmanager running it turns the alert sets the rules produce for one problem (see
// alerts/tests/) into one notification, the inhibitions holding back the consequences; merged
// into kube-prometheus-stack's default configuration as the README says, vigil's pages, warnings
// and tickets still arrive as intended.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from './support/agent-process.ts';
import { freePort } from './support/etcd.ts';
import { mergedIntoKubePrometheusStack } from './support/kube-prometheus-stack.ts';
import { EXAMPLE_ALERTMANAGER_CONFIG, WebhookReceiver, startAlertmanager, type Alertmanager } from './support/monitoring.ts';

type Labels = Record<string, string>;

interface HeldAlert {
  labels: Labels;
  status: { state: string; inhibitedBy: string[] };
  receivers: { name: string }[];
}

/** Real Alertmanager with one configuration, a webhook for every receiver, and clusters to keep each case apart. */
function alertmanagerUnderTest(config?: () => string) {
  let dir: string;
  let webhook: WebhookReceiver;
  let am: Alertmanager;
  let cluster = 0;
  /** How many alerts were posted for each cluster. */
  const posted = new Map<string, number>();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-am-'));
    webhook = await WebhookReceiver.start();
    am = await startAlertmanager({ dir, port: await freePort(), config: config?.(), webhookUrl: webhook.url, timings: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' } });
  });
  after(async () => {
    await am?.stop();
    await webhook?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts a set of firing alerts, each tagged with a fresh cluster (unless `cluster: false`), as Prometheus would send them; returns that cluster. */
  const fire = async (alerts: Labels[], opts: { cluster?: boolean } = {}) => {
    const c = `c${++cluster}`;
    posted.set(c, alerts.length);
    const withCluster = opts.cluster ?? true;
    const body = alerts.map((labels) => ({ labels: withCluster ? { ...labels, cluster: c } : { ...labels, case: c }, annotations: { summary: 's' }, startsAt: new Date().toISOString() }));
    const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
    return c;
  };
  const sameLabels = (a: Labels, b: Labels) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  const held = async (c: string): Promise<HeldAlert[]> => {
    const matcher = encodeURIComponent(`cluster="${c}"`);
    const byCase = encodeURIComponent(`case="${c}"`);
    const [a, b] = await Promise.all([matcher, byCase].map(async (m) => (await (await fetch(`${am.url}/api/v2/alerts?filter=${m}`)).json()) as HeldAlert[]));
    return [...a!, ...b!];
  };
  const sentFor = (c: string) => [...webhook.findAll('firing', { cluster: c }), ...webhook.findAll('firing', { case: c })];
  /**
   * The alerts notified for a case once Alertmanager has settled: at least `expected` arrived,
   * and every alert posted is either notified, held back by an inhibition (as Alertmanager's own
   * API says), or routed to a receiver that sends nothing (so nothing more can arrive while the
   * inhibiting alert fires).
   */
  const notified = async (c: string, expected: number) => {
    await eventually(
      async () => {
        const sent = sentFor(c);
        if (sent.length < expected) return undefined;
        const alerts = await held(c);
        const settled =
          alerts.length === posted.get(c) &&
          alerts.every((a) => (a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0) || (a.status.state === 'active' && a.receivers.every((r) => r.name === 'null')) || sent.some((f) => sameLabels(f.alert.labels, a.labels)));
        return settled ? true : undefined;
      },
      20_000,
      `${expected} notified alerts for ${c}, every other one inhibited or sent nowhere`,
    );
    return sentFor(c)
      .map((f) => `${f.receiver}: ${f.alert.labels.alertname}${f.alert.labels.node ? ` ${f.alert.labels.node}` : ''}${f.alert.labels.member ? ` ${f.alert.labels.member}` : ''} ${f.alert.labels.severity}`)
      .sort();
  };
  /** The labels of every alert of a case that Alertmanager holds back by an inhibition. */
  const inhibited = async (c: string) =>
    (await held(c))
      .filter((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0)
      .map((a) => `${a.labels.alertname} ${a.labels.severity}`)
      .sort();
  return { fire, notified, inhibited };
}

void describe('the example Alertmanager configuration', () => {
  const { fire, notified } = alertmanagerUnderTest();

  void it('passes amtool check-config', () => {
    const r = spawnSync('amtool', ['check-config', EXAMPLE_ALERTMANAGER_CONFIG], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'amtool must be installed (Debian package prometheus-alertmanager)');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS/);
  });

  void it("a slow member: the critical write-latency alert alone, to the pager; another member's warning still to the team", async () => {
    const c = await fire([
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm2' },
    ]);
    assert.deepEqual(await notified(c, 2), ['pager: VigilEtcdWriteLatency m1 critical', 'team: VigilEtcdWriteLatency m2 warning']);
  });

  void it('a node down: node unreachable, its agent-down and probe-not-running held back', async () => {
    const c = await fire([
      { alertname: 'VigilNodeUnreachable', severity: 'critical', node: 'n7' },
      { alertname: 'VigilAgentDown', severity: 'warning', node: 'n7', instance: '10.0.0.7:10924' },
      { alertname: 'VigilProbeNotRunning', severity: 'warning', node: 'n7', probe: 'etcd' },
      // another node's agent down is its own problem
      { alertname: 'VigilAgentDown', severity: 'warning', node: 'n2', instance: '10.0.0.2:10924' },
    ]);
    assert.deepEqual(await notified(c, 2), ['pager: VigilNodeUnreachable n7 critical', 'team: VigilAgentDown n2 warning']);
  });

  void it("a node's pod network broken: the overlay alone; its agent down, DNS and pod start held back", async () => {
    const c = await fire([
      { alertname: 'VigilOverlayNetworkBroken', severity: 'critical', node: 'n4' },
      { alertname: 'VigilAgentDown', severity: 'warning', node: 'n4', instance: '10.244.4.2:10924' },
      { alertname: 'VigilNodeDNSFailing', severity: 'warning', node: 'n4', probe: 'dns' },
      { alertname: 'VigilPodStartFailing', severity: 'warning', node: 'n4', probe: 'pod-scheduling' },
      { alertname: 'VigilOverlayLinkBroken', severity: 'warning', node: 'n4', peer_node: 'n1' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilOverlayNetworkBroken n4 critical']);
  });

  void it('a 3/7 partition: one page', async () => {
    const c = await fire([
      { alertname: 'VigilNetworkPartition', severity: 'critical' },
      ...['n1', 'n2', 'n3'].map((node) => ({ alertname: 'VigilNodeUnreachable', severity: 'critical', node })),
      ...['n1', 'n2', 'n3'].map((node) => ({ alertname: 'VigilAgentDown', severity: 'warning', node, instance: `${node}:10924` })),
      { alertname: 'VigilOverlayNetworkBroken', severity: 'critical', node: 'n2' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilNetworkPartition critical']);
  });

  void it('no etcd leader: the API server, leases, scheduling, latency and the members held back', async () => {
    const c = await fire([
      { alertname: 'VigilEtcdNoLeader', severity: 'critical' },
      { alertname: 'VigilAPIServerUnhealthy', severity: 'critical' },
      { alertname: 'VigilControlPlaneLeaseStale', severity: 'critical', component: 'kube-scheduler' },
      { alertname: 'VigilPodSchedulingFailing', severity: 'critical' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm0' },
      { alertname: 'VigilEtcdMemberDown', severity: 'warning', member: 'm1' },
      { alertname: 'VigilEtcdMemberDown', severity: 'warning', member: 'm2' },
      { alertname: 'VigilEtcdProbeFailing', severity: 'warning', node: 'n1' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilEtcdNoLeader critical']);
  });

  void it('the API server down: scheduling and leases held back; warnings and tickets go to their own receivers', async () => {
    const c = await fire([
      { alertname: 'VigilAPIServerUnhealthy', severity: 'critical' },
      { alertname: 'VigilPodStartFailing', severity: 'warning', node: 'n3', probe: 'pod-scheduling' },
      { alertname: 'VigilControlPlaneLeaseStale', severity: 'critical', component: 'kube-controller-manager' },
      { alertname: 'VigilNodeDNSFailing', severity: 'warning', node: 'n4', probe: 'dns' },
      { alertname: 'VigilPodStartupBudgetBurn', severity: 'info' },
    ]);
    assert.deepEqual(await notified(c, 3), ['pager: VigilAPIServerUnhealthy critical', 'team: VigilNodeDNSFailing n4 warning', 'tickets: VigilPodStartupBudgetBurn info']);
  });

  void it("the scheduler down: its lease alone; scheduling held back, another component's lease not", async () => {
    const c = await fire([
      { alertname: 'VigilControlPlaneLeaseStale', severity: 'critical', component: 'kube-scheduler' },
      { alertname: 'VigilPodSchedulingFailing', severity: 'critical' },
      { alertname: 'VigilPodStartFailing', severity: 'warning', node: 'n2', probe: 'pod-scheduling' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilControlPlaneLeaseStale critical']);
  });

  void it("a node's clock off: the offset alone, its probe-not-running held back", async () => {
    const c = await fire([
      { alertname: 'VigilClockOffset', severity: 'warning', node: 'n5' },
      { alertname: 'VigilProbeNotRunning', severity: 'warning', node: 'n5', probe: 'node' },
    ]);
    assert.deepEqual(await notified(c, 1), ['team: VigilClockOffset n5 warning']);
  });
});

void describe("the example configuration merged into kube-prometheus-stack's default, as the README says", () => {
  const { fire, notified, inhibited } = alertmanagerUnderTest(() => mergedIntoKubePrometheusStack({ scoped: true }));

  void it('passes amtool check-config', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-am-merged-'));
    try {
      const file = path.join(dir, 'alertmanager.yml');
      writeFileSync(file, mergedIntoKubePrometheusStack({ scoped: true }));
      const r = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("one member's critical holds back only its own warning; the stack's InfoInhibitor leaves vigil's tickets alone", async () => {
    // Like vigil's alerts, the InfoInhibitor that vigil's ticket raises in the stack carries no namespace.
    const c = await fire([
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm2' },
      { alertname: 'VigilEtcdWriteLatencyBudgetBurn', severity: 'info' },
      { alertname: 'InfoInhibitor', severity: 'none' },
    ]);
    assert.deepEqual(await notified(c, 3), ['pager: VigilEtcdWriteLatency m1 critical', 'team: VigilEtcdWriteLatency m2 warning', 'tickets: VigilEtcdWriteLatencyBudgetBurn info']);
  });

  void it("vigil's own inhibitions still hold: a node down is one page", async () => {
    const c = await fire([
      { alertname: 'VigilNodeUnreachable', severity: 'critical', node: 'n7' },
      { alertname: 'VigilAgentDown', severity: 'warning', node: 'n7', instance: '10.0.0.7:10924' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilNodeUnreachable n7 critical']);
  });

  void it("the stack's alerts keep its behaviour: the Watchdog goes to its own receiver, and its critical holds back its warning", async () => {
    const c = await fire(
      [
        { alertname: 'Watchdog', severity: 'none' },
        { alertname: 'KubePodCrashLooping', severity: 'critical', namespace: 'shop' },
        { alertname: 'KubePodCrashLooping', severity: 'warning', namespace: 'shop' },
      ],
      { cluster: false },
    );
    assert.deepEqual(await notified(c, 0), [], "nothing of the stack reaches vigil's receivers");
    assert.deepEqual(await inhibited(c), ['KubePodCrashLooping warning']);
  });
});

void describe("the example configuration merged into kube-prometheus-stack's default without the README's edit", () => {
  const { fire, notified, inhibited } = alertmanagerUnderTest(() => mergedIntoKubePrometheusStack({ scoped: false }));

  void it("loses one member's warning behind another's critical, and every ticket: why the README asks for the edit", async () => {
    const c = await fire([
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm2' },
      { alertname: 'VigilEtcdWriteLatencyBudgetBurn', severity: 'info' },
      { alertname: 'InfoInhibitor', severity: 'none' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilEtcdWriteLatency m1 critical']);
    assert.deepEqual(
      (await inhibited(c)).filter((a) => a.startsWith('Vigil')),
      ['VigilEtcdWriteLatency warning', 'VigilEtcdWriteLatencyBudgetBurn info'],
    );
  });
});
