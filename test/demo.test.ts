// `npm run demo` brings the whole stack up, wired together, and Ctrl-C (SIGINT) leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { eventually } from './support/agent-process.ts';
import { startProcess, type ManagedProcess } from './support/process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

void describe('npm run demo', () => {
  let demo: ManagedProcess | undefined;
  let pids: number[] = [];

  after(async () => {
    // Only if the test failed half way: end what the demo started, by PID.
    await demo?.stop({ signal: 'SIGINT', graceMs: 10_000 });
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  void it('starts etcd, the API simulator, three agents, Prometheus and Alertmanager, and stops them all on Ctrl-C', async () => {
    demo = startProcess({ name: 'demo', command: process.execPath, args: ['--import', 'tsx', 'scripts/demo.ts'], cwd: ROOT });
    const out = await eventually(
      () => {
        if (!demo!.running()) throw new Error(`demo exited:\n${demo!.output()}`);
        return demo!.output().includes('Press Ctrl-C to stop.') ? demo!.output() : undefined;
      },
      90_000,
      'the demo to be up',
    );
    const processes = /^processes: (.+)$/m
      .exec(out)![1]!
      .split(', ')
      .map((p) => p.split(' ') as [string, string]);
    assert.deepEqual(
      processes.map(([n]) => n),
      ['etcd-m0', 'etcd-m1', 'etcd-m2', 'apisim', 'node-a', 'node-b', 'node-c', 'prometheus', 'alertmanager'],
    );
    pids = processes.map(([, pid]) => Number(pid));
    for (const pid of pids) assert.ok(alive(pid), `pid ${pid}`);
    const stateDir = /^state: (.+)$/m.exec(out)![1]!;
    assert.ok(existsSync(stateDir));

    const prom = /Prometheus +(http:\/\/127\.0\.0\.1:\d+)\/classic\/alerts/.exec(out)![1]!;
    // The printed links open on Debian's Prometheus 2.42, where /alerts and /targets are 404.
    for (const link of [`${prom}/classic/alerts`, `${prom}/classic/targets`]) {
      assert.ok(out.includes(link), link);
      assert.equal((await fetch(link)).status, 200, link);
    }
    const am = /Alertmanager +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    // Prometheus scrapes the three agents, each with its node label, and holds the bundled rules.
    const up = await eventually(
      async () => {
        const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('up{job="vigil"} == 1')}`)).json()) as { data: { result: { metric: Record<string, string> }[] } };
        return r.data.result.length === 3 ? r.data.result : undefined;
      },
      60_000,
      'Prometheus to scrape all three agents',
    );
    assert.deepEqual(up.map((s) => s.metric.node).sort(), ['node-a', 'node-b', 'node-c']);
    const rules = (await (await fetch(`${prom}/api/v1/rules?type=alert`)).json()) as { data: { groups: { rules: unknown[] }[] } };
    assert.ok(rules.data.groups.flatMap((g) => g.rules).length >= 20);
    const ams = (await (await fetch(`${prom}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
    assert.equal(new URL(ams.data.activeAlertmanagers[0]!.url).origin, am);
    assert.ok((await fetch(`${am}/-/ready`)).ok);
    // The cluster status, as printed: any agent answers for all three nodes.
    const [, token, statusUrl] = /cluster status curl -H 'Authorization: Bearer (\S+)' (\S+)/.exec(out)!;
    const cluster = await eventually(
      async () => {
        const res = await fetch(statusUrl!, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as ClusterStatus;
        return body.nodes?.length === 3 && body.nodes.every((n) => n.answered) ? body : undefined;
      },
      30_000,
      'the cluster status to hear from all three nodes',
    );
    assert.deepEqual(cluster.nodes.map((n) => n.name).sort(), ['node-a', 'node-b', 'node-c']);

    demo.child.kill('SIGINT');
    await eventually(() => (demo!.running() ? undefined : true), 30_000, 'the demo to exit');
    assert.equal(demo.child.exitCode, 0, demo.output());
    assert.match(demo.output(), /stopped; nothing left running/);
    for (const [name, pid] of processes) assert.ok(!alive(Number(pid)), `${name} (${pid}) still running`);
    assert.ok(!existsSync(stateDir), `${stateDir} left behind`);
  });
});
