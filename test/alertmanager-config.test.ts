// The example Alertmanager configuration (alerts/alertmanager.yml): amtool accepts it, and real
// Alertmanager running it turns the alert sets the rules produce for one problem (see
// alerts/tests/) into one notification, the inhibitions holding back the consequences.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from './support/agent-process.ts';
import { freePort } from './support/etcd.ts';
import { EXAMPLE_ALERTMANAGER_CONFIG, WebhookReceiver, startAlertmanager, type Alertmanager } from './support/monitoring.ts';

type Labels = Record<string, string>;

void describe('the example Alertmanager configuration', () => {
  let dir: string;
  let webhook: WebhookReceiver;
  let am: Alertmanager;
  let cluster = 0;
  /** How many alerts were posted for each cluster. */
  const posted = new Map<string, number>();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-am-'));
    webhook = await WebhookReceiver.start();
    am = await startAlertmanager({ dir, port: await freePort(), webhookUrl: webhook.url, timings: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' } });
  });
  after(async () => {
    await am?.proc.stop();
    await webhook?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts a set of firing alerts, each tagged with a fresh cluster, as Prometheus would send them; returns that cluster. */
  const fire = async (alerts: Labels[]) => {
    const c = `c${++cluster}`;
    posted.set(c, alerts.length);
    const body = alerts.map((labels) => ({ labels: { ...labels, cluster: c }, annotations: { summary: 's' }, startsAt: new Date().toISOString() }));
    const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
    return c;
  };
  const sameLabels = (a: Labels, b: Labels) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  /**
   * The alerts notified for a cluster once Alertmanager has settled: at least `expected` arrived,
   * and every alert posted is either notified or, as Alertmanager's own API says, held back by an
   * inhibition (so nothing more can arrive while the inhibiting alert fires).
   */
  const notified = async (c: string, expected: number) => {
    await eventually(async () => {
      const sent = webhook.findAll('firing', { cluster: c });
      if (sent.length < expected) return undefined;
      const res = await fetch(`${am.url}/api/v2/alerts?filter=${encodeURIComponent(`cluster="${c}"`)}`);
      const held = (await res.json()) as { labels: Labels; status: { state: string; inhibitedBy: string[] } }[];
      const settled = held.length === posted.get(c) && held.every((a) => (a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0) || sent.some((f) => sameLabels(f.alert.labels, a.labels)));
      return settled ? true : undefined;
    }, 20_000, `${expected} notified alerts for ${c}, every other one inhibited`);
    return webhook.findAll('firing', { cluster: c }).map((f) => `${f.receiver}: ${f.alert.labels.alertname}${f.alert.labels.node ? ` ${f.alert.labels.node}` : ''}${f.alert.labels.member ? ` ${f.alert.labels.member}` : ''} ${f.alert.labels.severity}`).sort();
  };

  void it('passes amtool check-config', () => {
    const r = spawnSync('amtool', ['check-config', EXAMPLE_ALERTMANAGER_CONFIG], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'amtool must be installed (Debian package prometheus-alertmanager)');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS/);
  });

  void it('a slow member: the critical write-latency alert alone, to the pager', async () => {
    const c = await fire([
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm1' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'warning', member: 'm1' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilEtcdWriteLatency m1 critical']);
  });

  void it('a node down: node unreachable, its agent-down and probe-not-running held back', async () => {
    const c = await fire([
      { alertname: 'VigilNodeUnreachable', severity: 'critical', node: 'n7' },
      { alertname: 'VigilAgentDown', severity: 'critical', node: 'n7', instance: '10.0.0.7:10924' },
      { alertname: 'VigilProbeNotRunning', severity: 'warning', node: 'n7', probe: 'etcd' },
      // another node's agent down is its own problem
      { alertname: 'VigilAgentDown', severity: 'critical', node: 'n2', instance: '10.0.0.2:10924' },
    ]);
    assert.deepEqual(await notified(c, 2), ['pager: VigilAgentDown n2 critical', 'pager: VigilNodeUnreachable n7 critical']);
  });

  void it('a 3/7 partition: one page', async () => {
    const c = await fire([
      { alertname: 'VigilNetworkPartition', severity: 'critical' },
      ...['n1', 'n2', 'n3'].map((node) => ({ alertname: 'VigilNodeUnreachable', severity: 'critical', node })),
      { alertname: 'VigilOverlayNetworkBroken', severity: 'critical', node: 'n2' },
    ]);
    assert.deepEqual(await notified(c, 1), ['pager: VigilNetworkPartition critical']);
  });

  void it('no etcd leader: the API server, leases, scheduling and latency held back', async () => {
    const c = await fire([
      { alertname: 'VigilEtcdNoLeader', severity: 'critical' },
      { alertname: 'VigilAPIServerUnhealthy', severity: 'critical', probe: 'apiserver' },
      { alertname: 'VigilControlPlaneLeaseStale', severity: 'critical', component: 'kube-scheduler' },
      { alertname: 'VigilPodSchedulingFailing', severity: 'critical', probe: 'pod-scheduling' },
      { alertname: 'VigilEtcdWriteLatency', severity: 'critical', member: 'm0' },
      // the member that is down is a cause, not a consequence
      { alertname: 'VigilEtcdMemberDown', severity: 'critical', member: 'm2' },
    ]);
    assert.deepEqual(await notified(c, 2), ['pager: VigilEtcdMemberDown m2 critical', 'pager: VigilEtcdNoLeader critical']);
  });

  void it('the API server down: scheduling and leases held back; warnings and tickets go to their own receivers', async () => {
    const c = await fire([
      { alertname: 'VigilAPIServerUnhealthy', severity: 'critical', probe: 'apiserver' },
      { alertname: 'VigilPodStartFailing', severity: 'critical', node: 'n3', probe: 'pod-scheduling' },
      { alertname: 'VigilControlPlaneLeaseStale', severity: 'critical', component: 'kube-controller-manager' },
      { alertname: 'VigilNodeDNSFailing', severity: 'warning', node: 'n4', probe: 'dns' },
    ]);
    assert.deepEqual(await notified(c, 2), ['pager: VigilAPIServerUnhealthy critical', 'team: VigilNodeDNSFailing n4 warning']);
  });
});
