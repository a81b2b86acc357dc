// End to end through real Prometheus and Alertmanager: a slow etcd disk and a dead agent must reach
// a webhook receiver as notifications, and the slow disk must resolve once the disk is fast again.
// The rules are the shipped expressions with every `for` shortened to 2 s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebhookReceiver, rulesWithFor } from './support/monitoring.ts';
import { eventually } from './support/agent-process.ts';
import { slowDisk } from './support/etcd.ts';
import { BUNDLED_RULES, startStack, type Stack } from './support/stack.ts';

/** Added delay of every fdatasync/fsync of etcd: puts take well over the 500 ms critical edge. */
const SLOW_DISK_MS = 400;

interface Sample { metric: Record<string, string>; value: [number, string] }

void describe('alerts end to end', () => {
  let dir: string;
  let webhook: WebhookReceiver;
  let stack: Stack;
  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${stack.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    webhook = await WebhookReceiver.start();
    const rulesFile = path.join(dir, 'rules.yml');
    rulesWithFor(BUNDLED_RULES, '2s', rulesFile);
    stack = await startStack({
      rulesFile,
      webhookUrl: webhook.url,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      probeInterval: '2s',
      peerInterval: '1s',
      alertmanager: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
    });
  });

  after(async () => {
    await stack?.stop();
    await webhook?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('a slow etcd disk pages as critical write latency, and resolves when the disk is fast again', async (t) => {
    const member = stack.etcd.members[0]!.name;
    // A healthy baseline first: every agent has written to etcd for a while, and nothing etcd or
    // network related is firing.
    await eventually(async () => {
      const r = await query('sum by (node) (increase(vigil_etcd_request_duration_seconds_count{operation="put"}[1m]))');
      return r.length === 3 && r.every((s) => Number(s.value[1]) >= 4) ? r : undefined;
    }, 60_000, 'puts from every agent in Prometheus');
    const firingAtStart = await query('ALERTS{alertstate="firing", alertname=~"VigilEtcd.*|VigilNodeUnreachable|VigilNetworkPartition|VigilAgent.*|VigilAPIServer.*|VigilControlPlane.*|VigilPodScheduling.*|VigilProbeNotRunning"}');
    assert.deepEqual(firingAtStart.map((s) => s.metric.alertname), []);
    assert.equal(webhook.find('firing', { alertname: 'VigilEtcdWriteLatencyCritical' }), undefined);

    const faultAt = Date.now();
    const heal = await slowDisk(stack.etcd.members[0]!.pid!, SLOW_DISK_MS);
    let fired;
    try {
      fired = await eventually(() => webhook.find('firing', { alertname: 'VigilEtcdWriteLatencyCritical', member }), 120_000, 'VigilEtcdWriteLatencyCritical at the webhook');
    } finally {
      await heal();
    }
    const healedAt = Date.now();
    assert.equal(fired.alert.labels.severity, 'critical');
    assert.match(fired.alert.annotations.description!, new RegExp(`of the puts to etcd member ${member} took longer than 500 ms`));
    assert.equal(fired.alert.annotations.runbook_url, 'docs/runbooks/VigilEtcdWriteLatencyCritical.md');

    const resolved = await eventually(() => webhook.find('resolved', { alertname: 'VigilEtcdWriteLatencyCritical', member }, healedAt), 180_000, 'VigilEtcdWriteLatencyCritical resolved at the webhook');
    t.diagnostic(`slow etcd disk: fault -> firing notification ${((fired.receivedAt - faultAt) / 1000).toFixed(1)} s; fault removed -> resolved notification ${((resolved.receivedAt - healedAt) / 1000).toFixed(1)} s`);
  });

  void it('a killed agent pages as its node unreachable and its agent down, naming that node', async (t) => {
    const victim = stack.agents.find((a) => a.name === 'node-c')!;
    await eventually(async () => {
      const r = await query('vigil_peer_up == 1');
      return r.length === 6 ? r : undefined;
    }, 30_000, 'every agent to see every peer up');
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const fired = await eventually(() => webhook.find('firing', { alertname: 'VigilNodeUnreachable', node: 'node-c' }), 60_000, 'VigilNodeUnreachable for node-c at the webhook');
    assert.equal(fired.alert.labels.severity, 'critical');
    assert.equal(fired.alert.annotations.description, 'Node node-c does not answer 100% of the vigil agents that ping it, on any network.');
    const down = await eventually(() => webhook.find('firing', { alertname: 'VigilAgentDown', node: 'node-c' }), 60_000, 'VigilAgentDown for node-c at the webhook');
    assert.equal(down.alert.labels.instance, new URL(victim.url).host);
    assert.equal(down.alert.annotations.description, `Prometheus has not been able to scrape the vigil agent on node node-c (${new URL(victim.url).host}) for 5 minutes.`);
    // The survivors are not blamed, and a dead node is not a partition.
    for (const n of ['node-a', 'node-b']) {
      assert.equal(webhook.find('firing', { alertname: 'VigilNodeUnreachable', node: n }), undefined, n);
      assert.equal(webhook.find('firing', { alertname: 'VigilAgentDown', node: n }), undefined, n);
    }
    assert.equal(webhook.find('firing', { alertname: 'VigilNetworkPartition' }), undefined);
    t.diagnostic(`killed agent: kill -> VigilNodeUnreachable notification ${((fired.receivedAt - killedAt) / 1000).toFixed(1)} s; -> VigilAgentDown ${((down.receivedAt - killedAt) / 1000).toFixed(1)} s`);
  });
});
