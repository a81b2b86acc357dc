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

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

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
    const leaders = await eventually(
      async () => {
        const r = await query('max by (member) (vigil_etcd_endpoint_is_leader) == 1');
        return r.length === 1 ? r : undefined;
      },
      30_000,
      'one etcd leader in Prometheus',
    );
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
    await eventually(
      async () => {
        const r = await query('count by (member) (increase(vigil_etcd_request_duration_seconds_count{operation="put"}[20s]) >= 4)');
        return r.length === 3 && r.every((s) => Number(s.value[1]) === 3) ? r : undefined;
      },
      90_000,
      'puts from every agent to every member in Prometheus',
    );
  });

  after(async () => {
    await stack?.stop();
    await webhook?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('exports no label a ServiceMonitor scrape sets: nothing arrives renamed exported_*', async () => {
    for (const a of stack.agents) {
      // Every probe has run (the API server probe every 15 s): every metric has its labels.
      const text = await eventually(
        async () => {
          const t = await (await fetch(`${a.url}/metrics`)).text();
          return /^vigil_apiserver_request_duration_seconds_count\{path="livez"\} \d+$/m.test(t) ? t : undefined;
        },
        60_000,
        `${a.name}: the API server probe's first observation`,
      );
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
    assert.ok(
      series.every((s) => s.endpoint === 'http' && s.namespace === 'vigil' && s.pod?.startsWith('vigil-')),
      'the target labels as a ServiceMonitor sets them',
    );
    const firing = await query('ALERTS{alertstate="firing", alertname=~"Vigil.*"}');
    assert.deepEqual(
      firing.map((s) => s.metric.alertname),
      [],
      'nothing fires on a healthy cluster',
    );
  });

  void it("one member's slow disk: one critical notification naming that member, the warning left out in the rules; resolved when fast again", async (t) => {
    const m = await follower();
    const faultAt = Date.now();
    const heal = await slowDisk(m.pid!, SLOW_DISK_MS);
    let fired;
    try {
      fired = await eventually(() => webhook.find('firing', { alertname: 'VigilEtcdWriteLatency', member: m.name, severity: 'critical' }, faultAt), 120_000, 'VigilEtcdWriteLatency (critical) at the webhook');
      // The warning's expression leaves the member out while the critical condition holds, so it
      // never fires in Prometheus: checked once the critical one has fired for longer than the
      // warning's own `for` (3m, 12 s compressed) would have needed.
      await eventually(
        async () => {
          const res = await fetch(`${stack.prometheus.url}/api/v1/alerts`);
          const alerts = ((await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string; activeAt: string }[] } }).data.alerts;
          const critical = alerts.find((x) => x.labels.alertname === 'VigilEtcdWriteLatency' && x.labels.member === m.name && x.labels.severity === 'critical' && x.state === 'firing');
          return critical && Date.now() - Date.parse(critical.activeAt) > 20_000 ? true : undefined;
        },
        60_000,
        'the critical alert active for 20 s',
      );
      const warned = await query(`count_over_time(ALERTS{alertname="VigilEtcdWriteLatency", member="${m.name}", severity="warning", alertstate="firing"}[${Math.ceil((Date.now() - faultAt) / 1000)}s])`);
      assert.deepEqual(warned, [], 'the warning never fired while the critical condition held');
    } finally {
      await heal();
    }
    const healedAt = Date.now();
    assert.equal(fired.alert.labels.severity, 'critical');
    assert.equal(fired.receiver, 'pager');
    assert.match(fired.alert.annotations.description!, new RegExp(`^\\d+(\\.\\d+)?% of the puts to etcd member ${m.name} took longer than 250 ms \\(or did not finish\\) over the last 5 minutes\\.$`));
    assert.equal(fired.alert.annotations.runbook_url, 'https://vigil.example.com/runbooks/VigilEtcdWriteLatency.md');
    assert.deepEqual(Object.keys(fired.alert.labels).sort(), ['alertname', 'member', 'severity'], 'one alert for the member, not one per agent');
    assert.deepEqual(webhook.findAll('firing', { alertname: 'VigilEtcdWriteLatency', severity: 'warning' }, faultAt), [], 'no warning notified');
    assert.equal(webhook.findAll('firing', { alertname: 'VigilEtcdWriteLatency', severity: 'critical' }, faultAt).filter((f) => f.alert.labels.member !== m.name).length, 0, 'no other member blamed');
    const resolved = await eventually(() => webhook.find('resolved', { alertname: 'VigilEtcdWriteLatency', member: m.name }, healedAt), 120_000, 'VigilEtcdWriteLatency resolved at the webhook');
    t.diagnostic(`compressed ×15: fault -> firing notification ${((fired.receivedAt - faultAt) / 1000).toFixed(1)} s; healed -> resolved ${((resolved.receivedAt - healedAt) / 1000).toFixed(1)} s`);
  });

  void it('one member killed: one warning naming it, whichever agents see it', async (t) => {
    const m = await follower();
    const killedAt = Date.now();
    await m.kill();
    const fired = await eventually(() => webhook.find('firing', { alertname: 'VigilEtcdMemberDown', member: m.name }, killedAt), 120_000, 'VigilEtcdMemberDown at the webhook').catch(async (err: Error) => {
      // What the rule saw: its condition and each term that leaves a member out.
      const terms = [
        'cluster_member:vigil_etcd_member_down:bool',
        'cluster:vigil_etcd_has_leader:max_avg2m',
        'cluster_node:vigil_peers_unreachable:ratio',
        'cluster:vigil_nodes_unreachable:count',
        'ALERTS{alertname="VigilEtcdMemberDown"}',
        'max by (member) (vigil_etcd_endpoint_is_leader)',
      ];
      const seen = await Promise.all(terms.map(async (q) => `${q} = ${JSON.stringify((await query(q).catch(() => [])).map((r) => [r.metric, r.value[1]]))}`));
      throw new Error(`${err.message} (killed ${m.name}); ${seen.join('; ')}`);
    });
    // One member of three: the cluster serves on the others (README, "Severity policy").
    assert.equal(fired.receiver, 'team');
    assert.equal(fired.alert.labels.severity, 'warning');
    assert.equal(fired.alert.annotations.description, `etcd member ${m.name} has answered fewer than half of the probes of each vigil agent probing it for 2 minutes; the others serve on.`);
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
    await eventually(
      async () => {
        const r = await query('node_peer:vigil_peer_up:max_avg2m == 1');
        return r.length === 6 ? r : undefined;
      },
      60_000,
      'every agent to see every peer up',
    );
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const down = await eventually(() => webhook.find('firing', { alertname: 'VigilAgentDown', node: 'node-c' }, killedAt), 120_000, 'VigilAgentDown for node-c at the webhook');
    const instance = new URL(victim.url).host;
    assert.equal(down.receiver, 'team');
    assert.equal(down.alert.labels.instance, instance);
    assert.match(
      down.alert.annotations.description!,
      new RegExp(`^Prometheus failed \\d+(\\.\\d+)?% of its scrapes of the vigil agent on node node-c \\(${instance.replace(/\./g, '\\.')}\\) over 10 minutes, while its node answers its peers\\.$`),
    );
    // The peers got the connection refused: node-c's host is up, so its node is not unreachable,
    // and a dead agent is not a partition. Give the unreachable rule the time it would need.
    await new Promise((r) => setTimeout(r, 15_000));
    const peerView = await query('node_peer:vigil_peer_host_answered:max2m{peer_node="node-c"}');
    assert.equal(peerView.length, 2, 'both peers saw node-c refuse the connection');
    // Tickets aside (the slow disk above burned the write-latency budget, in compressed time), nothing else.
    const others = webhook.notifications
      .filter((n) => n.receivedAt >= killedAt)
      .flatMap((n) => n.alerts)
      .filter((a) => a.status === 'firing' && a.labels.alertname !== 'VigilAgentDown' && a.labels.severity !== 'info');
    assert.deepEqual(
      others.map((a) => `${a.labels.alertname} ${a.labels.node ?? a.labels.member ?? ''}`),
      [],
      'nothing else notified',
    );
    assert.deepEqual(
      webhook.findAll('firing', { alertname: 'VigilAgentDown' }, killedAt).map((f) => f.alert.labels.node),
      ['node-c'],
    );
    t.diagnostic(`compressed ×15: kill -> VigilAgentDown notification ${((down.receivedAt - killedAt) / 1000).toFixed(1)} s`);
  });
});
