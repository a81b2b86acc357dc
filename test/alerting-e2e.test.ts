// End to end through real Prometheus and Alertmanager, as an operator runs them: Prometheus scrapes
// the agents with the labels a ServiceMonitor scrape gives (job, namespace, service, pod,
// container, endpoint="http", node; honor_labels false), a real 3-member etcd, and Alertmanager
// runs the example configuration (alerts/alertmanager.yml). The rules are the shipped ones with
// time compressed fifteenfold (windows and `for`s: 2m → 8s, with a 2 s scrape for the 30 s one);
// bench/alert-timings.ts measures the real times with everything as shipped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebhookReceiver, rulesScaled } from './support/monitoring.ts';
import { eventually } from './support/agent-process.ts';
import { slowDisk } from './support/etcd.ts';
import { BUNDLED_RULES, startStack, type Stack } from './support/stack.ts';

/** Added delay of every fdatasync/fsync of one member: its puts take well over the 250 ms critical edge. */
const SLOW_DISK_MS = 300;
/** Labels a ServiceMonitor scrape sets on every target; vigil must export none of them. */
const RESERVED = ['job', 'instance', 'namespace', 'service', 'pod', 'container', 'endpoint', 'node', 'cluster'];

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
  /** A follower not yet used by a test: a slow or dead leader would drag every member along. */
  const used = new Set<string>();
  const follower = async () => {
    const leaders = await eventually(async () => {
      const r = await query('max by (member) (vigil_etcd_endpoint_is_leader) == 1');
      return r.length === 1 ? r : undefined;
    }, 30_000, 'one etcd leader in Prometheus');
    const m = stack.etcd.members.find((x) => !used.has(x.name) && x.name !== leaders[0]!.metric.member && x.pid !== undefined)!;
    used.add(m.name);
    return m;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    webhook = await WebhookReceiver.start();
    const rulesFile = path.join(dir, 'rules.yml');
    rulesScaled(BUNDLED_RULES, 1 / 15, rulesFile);
    stack = await startStack({
      rulesFile,
      webhookUrl: webhook.url,
      scrapeInterval: '2s',
      evaluationInterval: '2s',
      probeInterval: '1s',
      peerInterval: '1s',
      alertmanager: { groupWait: '2s', groupInterval: '2s', repeatInterval: '1h' },
    });
    // A healthy baseline: every agent has written to every member for a while.
    await eventually(async () => {
      const r = await query('count by (member) (increase(vigil_etcd_request_duration_seconds_count{operation="put"}[20s]) >= 4)');
      return r.length === 3 && r.every((s) => Number(s.value[1]) === 3) ? r : undefined;
    }, 90_000, 'puts from every agent to every member in Prometheus');
  });

  after(async () => {
    await stack?.stop();
    await webhook?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('exports no label a ServiceMonitor scrape sets: nothing arrives renamed exported_*', async () => {
    for (const a of stack.agents) {
      // Every probe has run (the API server probe every 15 s): every metric has its labels.
      const text = await eventually(async () => {
        const t = await (await fetch(`${a.url}/metrics`)).text();
        return /^vigil_apiserver_request_duration_seconds_count\{path="livez"\} \d+$/m.test(t) ? t : undefined;
      }, 60_000, `${a.name}: the API server probe's first observation`);
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const labels = /^[a-zA-Z_:][\w:]*\{(.*)\} /.exec(line)?.[1] ?? '';
        for (const m of labels.matchAll(/([a-zA-Z_]\w*)="/g)) assert.ok(!RESERVED.includes(m[1]!), `${a.name} exports the reserved label ${m[1]}: ${line}`);
      }
      assert.match(text, /^vigil_etcd_endpoint_up\{member="m0"\} 1$/m, 'etcd members named as etcd names them');
      assert.match(text, /^vigil_apiserver_request_duration_seconds_count\{path="livez"\} \d+$/m);
    }
    const res = await fetch(`${stack.prometheus.url}/api/v1/series?match[]=${encodeURIComponent('{job="vigil"}')}`);
    const series = ((await res.json()) as { data: Record<string, string>[] }).data;
    assert.ok(series.length > 100, `${series.length} series`);
    const renamed = series.filter((s) => Object.keys(s).some((k) => k.startsWith('exported_')));
    assert.deepEqual(renamed, []);
    assert.ok(series.every((s) => s.endpoint === 'http' && s.namespace === 'vigil' && s.pod?.startsWith('vigil-')), 'the target labels as a ServiceMonitor sets them');
    const firing = await query('ALERTS{alertstate="firing", alertname=~"Vigil.*"}');
    assert.deepEqual(firing.map((s) => s.metric.alertname), [], 'nothing fires on a healthy cluster');
  });

  void it('one member\'s slow disk: one critical notification naming that member, the warning held back; resolved when fast again', async (t) => {
    const m = await follower();
    const faultAt = Date.now();
    const heal = await slowDisk(m.pid!, SLOW_DISK_MS);
    let fired;
    try {
      fired = await eventually(() => webhook.find('firing', { alertname: 'VigilEtcdWriteLatency', member: m.name, severity: 'critical' }, faultAt), 120_000, 'VigilEtcdWriteLatency (critical) at the webhook');
      // Both severities fire in Prometheus; the example configuration's inhibition sends the critical one only.
      await eventually(async () => ((await query(`ALERTS{alertname="VigilEtcdWriteLatency", member="${m.name}", alertstate="firing"}`)).length === 2 ? true : undefined), 30_000, 'both severities firing');
      // Settled when Alertmanager itself holds the warning back, inhibited by the critical one.
      await eventually(async () => {
        const res = await fetch(`${stack.alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="VigilEtcdWriteLatency"')}&filter=${encodeURIComponent(`member="${m.name}"`)}&filter=${encodeURIComponent('severity="warning"')}`);
        const held = (await res.json()) as { status: { state: string; inhibitedBy: string[] } }[];
        return held.length === 1 && held[0]!.status.state === 'suppressed' && held[0]!.status.inhibitedBy.length > 0 ? true : undefined;
      }, 30_000, 'the warning inhibited in Alertmanager');
    } finally {
      await heal();
    }
    const healedAt = Date.now();
    assert.equal(fired.alert.labels.severity, 'critical');
    assert.equal(fired.receiver, 'pager');
    assert.match(fired.alert.annotations.description!, new RegExp(`^\\d+(\\.\\d+)?% of the puts to etcd member ${m.name} took longer than 250 ms over the last 5 minutes\\.$`));
    assert.equal(fired.alert.annotations.runbook_url, 'https://vigil.example.com/runbooks/VigilEtcdWriteLatency.md');
    assert.deepEqual(Object.keys(fired.alert.labels).sort(), ['alertname', 'member', 'severity'], 'one alert for the member, not one per agent');
    // Once the critical one fires, the warning is held back. (Compressed fifteenfold, the warning's
    // one-minute head start on the critical one is 4 s, which the first slow puts on a loaded
    // machine can outrun; bench/alert-timings.ts shows it held back with the shipped timings.)
    assert.deepEqual(webhook.findAll('firing', { alertname: 'VigilEtcdWriteLatency', severity: 'warning' }, fired.receivedAt + 1), [], 'the warning is inhibited while the critical one fires');
    assert.equal(webhook.findAll('firing', { alertname: 'VigilEtcdWriteLatency', severity: 'critical' }, faultAt).filter((f) => f.alert.labels.member !== m.name).length, 0, 'no other member blamed');
    const resolved = await eventually(() => webhook.find('resolved', { alertname: 'VigilEtcdWriteLatency', member: m.name }, healedAt), 120_000, 'VigilEtcdWriteLatency resolved at the webhook');
    t.diagnostic(`compressed ×15: fault -> firing notification ${((fired.receivedAt - faultAt) / 1000).toFixed(1)} s; healed -> resolved ${((resolved.receivedAt - healedAt) / 1000).toFixed(1)} s`);
  });

  void it('one member killed: one notification naming it, whichever agents see it', async (t) => {
    const m = await follower();
    const killedAt = Date.now();
    await m.kill();
    const fired = await eventually(() => webhook.find('firing', { alertname: 'VigilEtcdMemberDown', member: m.name }, killedAt), 120_000, 'VigilEtcdMemberDown at the webhook');
    assert.equal(fired.receiver, 'pager');
    assert.equal(fired.alert.annotations.description, `etcd member ${m.name} has answered fewer than half of the probes of each of the 3 vigil agents probing it for 2 minutes.`);
    assert.deepEqual(Object.keys(fired.alert.labels).sort(), ['alertname', 'member', 'severity']);
    assert.equal(webhook.findAll('firing', { alertname: 'VigilEtcdMemberDown' }, killedAt).length, 1, 'one notification');
    assert.equal(webhook.find('firing', { alertname: 'VigilEtcdNoLeader' }, killedAt), undefined, 'two of three members keep a leader');
    t.diagnostic(`compressed ×15: kill -> VigilEtcdMemberDown notification ${((fired.receivedAt - killedAt) / 1000).toFixed(1)} s`);
    m.spawn();
    await m.ready(60_000);
    await eventually(() => webhook.find('resolved', { alertname: 'VigilEtcdMemberDown', member: m.name }, killedAt), 120_000, 'VigilEtcdMemberDown resolved once the member is back');
  });

  void it('an agent killed on a live host: agent down for that node, not node unreachable', async (t) => {
    const victim = stack.agents.find((a) => a.name === 'node-c')!;
    await eventually(async () => {
      const r = await query('node_peer:vigil_peer_up:max_avg2m == 1');
      return r.length === 6 ? r : undefined;
    }, 60_000, 'every agent to see every peer up');
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const down = await eventually(() => webhook.find('firing', { alertname: 'VigilAgentDown', node: 'node-c' }, killedAt), 120_000, 'VigilAgentDown for node-c at the webhook');
    const instance = new URL(victim.url).host;
    assert.equal(down.receiver, 'pager');
    assert.equal(down.alert.labels.instance, instance);
    assert.match(down.alert.annotations.description!, new RegExp(`^Prometheus failed \\d+(\\.\\d+)?% of its scrapes of the vigil agent on node node-c \\(${instance.replace(/\./g, '\\.')}\\) over 3 minutes\\.$`));
    // The peers got the connection refused: node-c's host is up, so its node is not unreachable,
    // and a dead agent is not a partition. Give the unreachable rule the time it would need.
    await new Promise((r) => setTimeout(r, 15_000));
    const peerView = await query('node_peer:vigil_peer_host_answered:max2m{peer_node="node-c"}');
    assert.equal(peerView.length, 2, 'both peers saw node-c refuse the connection');
    // Tickets aside (the slow disk above burned the write-latency budget, in compressed time), nothing else.
    const others = webhook.notifications.filter((n) => n.receivedAt >= killedAt).flatMap((n) => n.alerts).filter((a) => a.status === 'firing' && a.labels.alertname !== 'VigilAgentDown' && a.labels.severity !== 'info');
    assert.deepEqual(others.map((a) => `${a.labels.alertname} ${a.labels.node ?? a.labels.member ?? ''}`), [], 'nothing else notified');
    assert.deepEqual(webhook.findAll('firing', { alertname: 'VigilAgentDown' }, killedAt).map((f) => f.alert.labels.node), ['node-c']);
    t.diagnostic(`compressed ×15: kill -> VigilAgentDown notification ${((down.receivedAt - killedAt) / 1000).toFixed(1)} s`);
  });
});
