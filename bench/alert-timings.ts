// Fault → firing and fault → notification times of the shipped alerts, with everything as shipped:
// the rules' windows and `for`s, a 30 s scrape and rule evaluation (kube-prometheus-stack's
// defaults), the agents' default etcd probe and ping intervals, and real Alertmanager running the
// example configuration (alerts/alertmanager.yml) with its own group_wait.
//
//   npx tsx bench/alert-timings.ts slow-disk   [runs]   # one member's fsyncs +300 ms → VigilEtcdWriteLatency
//   npx tsx bench/alert-timings.ts member-down [runs]   # one member killed → VigilEtcdMemberDown
//   npx tsx bench/alert-timings.ts agent-down  [runs]   # one agent killed → VigilAgentDown, a warning (and no VigilNodeUnreachable)
//
// Each run faults a different member or node, so no run inherits the previous one's window.
// Prints one line per run and a summary; takes minutes per run.
import { slowDisk } from '../test/support/etcd.ts';
import { WebhookReceiver } from '../test/support/monitoring.ts';
import { startStack, type Stack } from '../test/support/stack.ts';

const scenario = process.argv[2] ?? '';
const runs = Number(process.argv[3] ?? 3);
if (!['slow-disk', 'member-down', 'agent-down'].includes(scenario) || !(runs >= 1)) {
  process.stderr.write('usage: npx tsx bench/alert-timings.ts slow-disk|member-down|agent-down [runs]\n');
  process.exit(2);
}
const SLOW_DISK_MS = 300;
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromAlert {
  labels: Record<string, string>;
  state: string;
  activeAt: string;
}

async function alerts(stack: Stack): Promise<PromAlert[]> {
  const res = await fetch(`${stack.prometheus.url}/api/v1/alerts`);
  return ((await res.json()) as { data: { alerts: PromAlert[] } }).data.alerts;
}
const matches = (labels: Record<string, string>, want: Record<string, string>) => Object.entries(want).every(([k, v]) => labels[k] === v);

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1000);
  }
}

async function query(stack: Stack, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${stack.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

const webhook = await WebhookReceiver.start();
log(`starting the stack (${scenario})`);
const stack = await startStack({
  etcdMembers: scenario === 'slow-disk' ? 5 : 3,
  scrapeInterval: '30s',
  evaluationInterval: '30s',
  probeInterval: '10s',
  peerInterval: '10s',
  webhookUrl: webhook.url,
});
const results: { firing: number; notified: number; cleared?: number }[] = [];
let exitCode = 0;
try {
  // A healthy baseline: every agent scraped, none of the alerts measured here firing.
  await until(
    'a healthy baseline',
    async () => {
      const up = await query(stack, 'count(up{job="vigil"} == 1)');
      const firing = (await alerts(stack)).filter((a) => /^Vigil(EtcdWriteLatency|EtcdMemberDown|EtcdNoLeader|AgentDown|NodeUnreachable)$/.test(a.labels.alertname ?? '') && a.state === 'firing');
      return Number(up[0]?.value[1] ?? 0) === stack.agents.length && firing.length === 0 ? true : undefined;
    },
    180_000,
  );
  // Five minutes of healthy history, so the first run's long windows are full, as in a running cluster.
  await sleep(300_000);
  const used = new Set<string>();
  for (let i = 0; i < runs; i++) {
    let want: Record<string, string>;
    let heal: () => Promise<void>;
    const faultAt = Date.now();
    if (scenario === 'slow-disk') {
      // A follower: a slow leader slows every member's puts, and the next run would inherit it.
      const leaders = await query(stack, 'max by (member) (vigil_etcd_endpoint_is_leader) == 1');
      const m = stack.etcd.members.find((x) => !used.has(x.name) && !leaders.some((l) => l.metric.member === x.name))!;
      used.add(m.name);
      want = { alertname: 'VigilEtcdWriteLatency', member: m.name, severity: 'critical' };
      heal = await slowDisk(m.pid!, SLOW_DISK_MS);
    } else if (scenario === 'member-down') {
      const m = stack.etcd.members[i % stack.etcd.members.length]!;
      want = { alertname: 'VigilEtcdMemberDown', member: m.name };
      await m.kill();
      heal = async () => {
        m.spawn();
        await m.ready(60_000);
      };
    } else {
      const a = stack.agents[i % stack.agents.length]!;
      want = { alertname: 'VigilAgentDown', node: a.name };
      await a.kill('SIGKILL');
      heal = () => a.restart();
    }
    const t0 = faultAt;
    try {
      const firing = await until(`${JSON.stringify(want)} firing`, async () => ((await alerts(stack)).some((a) => a.state === 'firing' && matches(a.labels, want)) ? Date.now() : undefined), 600_000);
      const notified = await until(`${JSON.stringify(want)} notified`, () => webhook.find('firing', want, t0)?.receivedAt, 300_000);
      const healAt = Date.now();
      await heal();
      const cleared = await until(`${JSON.stringify(want)} cleared`, async () => ((await alerts(stack)).some((a) => matches(a.labels, want)) ? undefined : Date.now()), 600_000);
      const notes: string[] = [];
      if (scenario === 'agent-down') {
        const unreachable = webhook.find('firing', { alertname: 'VigilNodeUnreachable', node: want.node! }, t0);
        notes.push(unreachable ? 'VigilNodeUnreachable NOTIFIED (wrong cause)' : 'no VigilNodeUnreachable notification');
      }
      if (scenario === 'slow-disk') {
        const warnings = webhook.findAll('firing', { alertname: 'VigilEtcdWriteLatency', member: want.member!, severity: 'warning' }, t0);
        notes.push(warnings.length ? `${warnings.length} warning notification(s) besides the critical one` : 'no warning notified');
      }
      const r = { firing: (firing - t0) / 1000, notified: (notified - t0) / 1000, cleared: (cleared - healAt) / 1000 };
      results.push(r);
      log(`run ${i + 1}: ${JSON.stringify(want)} fault → firing ${r.firing.toFixed(0)} s, → notification ${r.notified.toFixed(0)} s; healed → cleared in Prometheus ${r.cleared.toFixed(0)} s; ${notes.join('; ')}`);
    } catch (err) {
      await heal().catch(() => {});
      throw err;
    }
    await sleep(60_000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  log(
    `summary ${scenario}, ${results.length} runs: fault → firing ${results.map((r) => r.firing.toFixed(0)).join(', ')} s (median ${med(results.map((r) => r.firing)).toFixed(0)}); fault → notification ${results.map((r) => r.notified.toFixed(0)).join(', ')} s (median ${med(results.map((r) => r.notified)).toFixed(0)}); healed → cleared ${results.map((r) => r.cleared!.toFixed(0)).join(', ')} s`,
  );
} catch (err) {
  log(`failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await stack.stop();
  await webhook.stop();
}
process.exit(exitCode);
