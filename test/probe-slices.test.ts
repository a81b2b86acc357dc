// Each probe owns its slice: its facts, its reading across nodes and its Node condition, in its
// own folder. The cluster status and the Node conditions are loops over the probe registry, so a
// probe's wording is for people only: rewording it changes no cause and no condition.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Cause, DesiredCondition } from '../src/diagnosis.ts';
import { desiredConditions } from '../src/conditions/desired.ts';
import { localStatusCheck } from '../src/peers/status-check.ts';
import type { ApiserverFacts } from '../src/probes/apiserver/facts.ts';
import type { EtcdFacts } from '../src/probes/etcd/facts.ts';
import { builtinProbes } from '../src/probes/index.ts';
import type { PodSchedulingFacts } from '../src/probes/pod-scheduling/facts.ts';
import { nameCauses, type Answer, type Edge } from '../src/status/causes.ts';
import { componentCauses } from '../src/status/components.ts';
import { LocalStatus, type ProbeStatus } from '../src/status/local.ts';
import { registryProbe } from './support/example-probe/probe.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const T0 = Date.UTC(2026, 0, 1, 13, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

/** Runs the example probe on a node, as the runner would record it, and returns the node's status as it goes on the wire. */
async function statusOn(node: string, reachable: boolean, t: number): Promise<ProbeStatus[]> {
  const probe = registryProbe.create({ node: { name: node }, interval: 60_000, timeout: 10_000, clock: { now: () => T0 + t * 1000 }, logger: silent, registry: new Registry() } as never, { mirror: 'mirror.example:5000', reachable });
  const status = new LocalStatus({ node, probes: [registryProbe.name], now: () => T0 + t * 1000 });
  status.record({ probe: registryProbe.name, result: await probe.run(AbortSignal.timeout(1000)), startedAt: T0 + t * 1000, finishedAt: T0 + t * 1000 + 20 });
  const wire = localStatusCheck.safeParse(JSON.parse(JSON.stringify({ ...status.snapshot(), peers: [] })));
  assert.ok(wire.success, 'the status with facts passes the wire check');
  return wire.data.probes;
}

void describe('a probe brings its slice in its own folder', () => {
  const probes = [...builtinProbes, registryProbe];

  void it("its cross-node reading names one cause for the failing component and accounts for each node's failure", async () => {
    const input = {
      probes: new Map([
        ['alpha', await statusOn('alpha', false, 1)],
        ['bravo', await statusOn('bravo', false, 2)],
        ['charlie', await statusOn('charlie', false, 3)],
      ]),
    };
    const { causes, explained } = componentCauses(input, probes);
    assert.deepEqual(
      causes.map((c) => [c.kind, c.component, c.seenBy, c.message]),
      [['registry-down', 'registry mirror.example:5000', { agents: ['alpha', 'bravo', 'charlie'], of: 3 }, 'registry mirror mirror.example:5000 unreachable from every node (3 of 3): mirror.example:5000: connect ETIMEDOUT']],
    );
    assert.deepEqual(
      [...explained].map(([n, s]) => [n, [...s]]),
      [
        ['alpha', ['registry-mirror']],
        ['bravo', ['registry-mirror']],
        ['charlie', ['registry-mirror']],
      ],
    );
    // Without it in the registry, the same runs are three nodes' own failures, nothing shared.
    assert.deepEqual(componentCauses(input).causes, []);
  });

  void it('its Node condition is written from its own run, its facts read back through the wire', async () => {
    const down = await statusOn('alpha', false, 1);
    assert.deepEqual(
      desiredConditions({ self: 'alpha', probes: down, peers: [], clockOffsetThresholdSeconds: 0.5 }, probes).find((c) => c.type === 'VigilRegistryMirror'),
      {
        type: 'VigilRegistryMirror',
        status: 'True',
        reason: 'MirrorUnreachable',
        message: 'alpha does not reach mirror.example:5000: mirror.example:5000: connect ETIMEDOUT',
      },
    );
    const up = await statusOn('alpha', true, 2);
    assert.equal(desiredConditions({ self: 'alpha', probes: up, peers: [], clockOffsetThresholdSeconds: 0.5 }, probes).find((c) => c.type === 'VigilRegistryMirror')?.status, 'False');
  });
});

// ---- rewording ----

const status = (name: string, verdict: ProbeStatus['verdict'], o: Partial<ProbeStatus> = {}): ProbeStatus => ({
  name,
  verdict,
  reason: verdict === 'ok' ? null : 'error',
  message: `${name} ${verdict}`,
  since: at(0),
  lastRun: at(60),
  durationSeconds: 0.1,
  skipped: false,
  observations: null,
  ...o,
});
const etcd = (f: EtcdFacts) => ({ facts: f });
const api = (f: ApiserverFacts) => ({ facts: f });
const pod = (f: PodSchedulingFacts) => ({ facts: f });
const member = (endpoint: string, m: Partial<EtcdFacts['members'][number]> = {}): EtcdFacts['members'][number] => ({ endpoint, name: null, up: true, problem: null, putMs: 4, alarms: [], ...m });
const slowB = (putMs: number, since: number) =>
  status('etcd', 'critical', {
    reason: 'slow-write',
    message: `etcd 10.0.0.2:2379: put ${putMs} ms > 250 ms`,
    since: at(since),
    ...etcd({ members: [member('10.0.0.1:2379', { name: 'etcd-a' }), member('10.0.0.2:2379', { name: 'etcd-b', putMs, problem: { verdict: 'critical', reason: 'slow-write' } })], clusterProblem: null }),
  });
const lost = status('etcd', 'critical', {
  reason: 'quorum-lost',
  message: 'etcd quorum lost: 1 of 3 members reachable',
  ...etcd({
    members: [member('10.0.0.1:2379', { name: 'etcd-a' }), member('10.0.0.2:2379', { up: false, putMs: null, problem: { verdict: 'critical', reason: 'unreachable' } })],
    clusterProblem: { verdict: 'critical', reason: 'quorum-lost' },
  }),
});
const scheduledButNot = (reason: string) => status('pod-scheduling', 'critical', { reason, message: `probe pod scheduled on the node in 0.10 s but ${reason}`, ...pod({ scheduled: true }) });
const unscheduled = status('pod-scheduling', 'critical', { reason: 'unschedulable', message: 'probe pod not scheduled in 30 s: 0/3 nodes are available', ...pod({ scheduled: false }) });
const refused = (name: string, lastRun: number) => status(name, 'critical', { reason: 'api-error', message: 'cannot reach the API server: ECONNREFUSED', lastRun: at(lastRun) });
const ok = (name: string, lastRun = 60) => status(name, 'ok', { lastRun: at(lastRun) });

/** Each: per node, its probes. */
const SCENARIOS: Record<string, Record<string, ProbeStatus[]>> = {
  'one slow etcd member': { alpha: [slowB(300, 20)], bravo: [slowB(640, 10)], charlie: [slowB(700, 30)] },
  'etcd quorum lost': { alpha: [lost], bravo: [lost], charlie: [ok('etcd')] },
  'the API server from one node, its checks named': { alpha: [ok('apiserver')], bravo: [status('apiserver', 'critical', { reason: 'readyz-failed', ...api({ failingChecks: { readyz: ['etcd'] } }) })], charlie: [ok('apiserver')] },
  'the API server down, pods failing with it': { alpha: [refused('apiserver', 60), refused('pod-scheduling', 50)], bravo: [refused('apiserver', 60), refused('pod-scheduling', 50)] },
  'requests unanswered, no answer since': { alpha: [ok('apiserver'), ok('pod-scheduling')], bravo: [ok('apiserver', 20), refused('pod-scheduling', 30), refused('control-plane', 40)] },
  'no probe pod scheduled anywhere': { alpha: [unscheduled], bravo: [unscheduled], charlie: [unscheduled] },
  'probe pods fail after scheduling everywhere': { alpha: [scheduledButNot('startup-timeout')], bravo: [scheduledButNot('container-create')] },
  "one node's kubelet or runtime": { alpha: [ok('pod-scheduling')], bravo: [ok('pod-scheduling')], charlie: [scheduledButNot('image-pull')] },
  'stale leases from every agent': { alpha: [status('control-plane', 'critical', { reason: 'lease-stale' })], bravo: [status('control-plane', 'critical', { reason: 'lease-stale' })] },
  'DNS on one node': { alpha: [ok('dns')], bravo: [status('dns', 'critical', { reason: 'timeout' })] },
};

const reword = (probes: ProbeStatus[]) => probes.map((p, i) => ({ ...p, message: `said otherwise ${i}: ${[...p.message].reverse().join('')}` }));
const mesh = (nodes: string[]): Edge[] => nodes.flatMap((o) => nodes.filter((p) => p !== o).map((p): Edge => ({ observer: o, peer: p, network: 'pod', up: true, failure: null, clockOffsetSeconds: 0, rttSeconds: 0.001, since: T0 })));
function causes(scenario: Record<string, ProbeStatus[]>, change: (p: ProbeStatus[]) => ProbeStatus[] = (p) => p): Omit<Cause, 'message'>[] {
  const answers = new Map(Object.entries(scenario).map(([n, ps]): [string, Answer] => [n, { ok: true, verdict: 'critical', probes: change(ps) }]));
  const nodes = Object.keys(scenario);
  return nameCauses({ asker: nodes[0]!, nodes, answers, edges: mesh(nodes), clockOffsetThresholdSeconds: 0.5 }).causes.map(({ message: _, ...rest }) => rest);
}
function conditions(probes: ProbeStatus[]): Omit<DesiredCondition, 'message'>[] {
  return desiredConditions({ self: 'alpha', probes, peers: [], clockOffsetThresholdSeconds: 0.5 }).map(({ message: _, ...rest }) => rest);
}

void describe('messages are for people', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    void it(`${name}: the same causes, kinds, nodes and since, whatever the probes' wording`, () => {
      const before = causes(scenario);
      assert.ok(
        before.some((c) => c.kind !== 'probe-failing'),
        `the scenario names a shared cause: ${JSON.stringify(before)}`,
      );
      assert.deepEqual(causes(scenario, reword), before);
    });
  }

  void it('the pod startup condition reads the reason, not the wording', () => {
    for (const reason of ['startup-timeout', 'image-pull', 'container-create', 'deletion-timeout', 'unschedulable']) {
      const run = [{ ...scheduledButNot(reason), name: 'pod-scheduling' }];
      assert.deepEqual(conditions(reword(run)), conditions(run), reason);
    }
    assert.equal(conditions([scheduledButNot('startup-timeout')])[0]?.reason, 'ProbePodStartTimeout');
    assert.deepEqual(conditions([scheduledButNot('deletion-timeout')]), [], 'a pod slow to go says nothing of its start');
  });

  void it('the cluster status and the Node-condition code name no probe and read no observation', () => {
    const files = ['src/status', 'src/conditions', 'src/k8s'].flatMap((d) =>
      readdirSync(path.join(REPO, d))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => path.join(d, f)),
    );
    for (const f of files) {
      const text = readFileSync(path.join(REPO, f), 'utf8');
      for (const p of builtinProbes) assert.doesNotMatch(text, new RegExp(`['"\`]${p.name}['"\`]`), `${f} names the ${p.name} probe`);
      assert.doesNotMatch(text, /observations\??\.?\[/, `${f} reads a probe's observations`);
    }
  });
});
