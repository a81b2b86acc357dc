import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameCauses, type Answer, type Edge } from './causes.ts';
import type { ProbeStatus } from './local.ts';
import type { ApiserverFacts } from '../probes/apiserver/facts.ts';
import type { EtcdFacts } from '../probes/etcd/facts.ts';
import type { PodSchedulingFacts } from '../probes/pod-scheduling/facts.ts';

const N = ['alpha', 'bravo', 'charlie'];
const T0 = Date.UTC(2026, 0, 1, 13, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function probe(name: string, verdict: ProbeStatus['verdict'], o: Partial<ProbeStatus> = {}): ProbeStatus {
  return { name, verdict, reason: verdict === 'ok' ? null : 'error', message: `${name} ${verdict}`, since: at(0), lastRun: at(60), durationSeconds: 0.1, skipped: false, observations: null, ...o };
}
const answer = (...probes: ProbeStatus[]): Answer => ({ ok: true, verdict: probes.some((p) => p.verdict === 'critical') ? 'critical' : probes.some((p) => p.verdict === 'warning') ? 'warning' : 'ok', probes });
const healthyMesh = (nodes: string[]): Edge[] =>
  nodes.flatMap((o) => nodes.filter((p) => p !== o).map((p): Edge => ({ observer: o, peer: p, network: 'pod', up: true, failure: null, clockOffsetSeconds: 0.001, rttSeconds: 0.001, since: T0 })));
const causesOf = (answers: Record<string, Answer>, edges = healthyMesh(Object.keys(answers))) =>
  nameCauses({ asker: Object.keys(answers)[0]!, nodes: Object.keys(answers), answers: new Map(Object.entries(answers)), edges, clockOffsetThresholdSeconds: 0.3 }).causes;

type EtcdMember = EtcdFacts['members'][number];
const member = (endpoint: string, m: Partial<EtcdMember> = {}): EtcdMember => ({ endpoint, name: null, up: true, problem: null, putMs: 4, alarms: [], ...m });
const etcdFacts = (facts: EtcdFacts) => ({ facts });
const apiserverFacts = (facts: ApiserverFacts) => ({ facts });
const podFacts = (facts: PodSchedulingFacts) => ({ facts });

/** The etcd probe's run seeing three members a, b, c where member b is slow by `putMs`. */
function etcdSeeing(putMs: number, verdict: 'warning' | 'critical', since: number, bAt = '10.0.0.2:2379'): ProbeStatus {
  const members = [member('10.0.0.1:2379', { name: 'etcd-a' }), member(bAt, { name: 'etcd-b', putMs, problem: { verdict, reason: 'slow-write' } }), member('10.0.0.3:2379', { name: 'etcd-c' })];
  return probe('etcd', verdict, { reason: 'slow-write', message: `etcd ${bAt}: put ${putMs} ms > 100 ms`, ...etcdFacts({ members, clusterProblem: null }), since: at(since) });
}

void describe('component causes', () => {
  void it('one slow etcd member seen by three agents is one cause naming the member, 3 of 3, the range and the earliest since', () => {
    const causes = causesOf({ alpha: answer(etcdSeeing(307, 'warning', 20)), bravo: answer(etcdSeeing(642, 'critical', 10)), charlie: answer(etcdSeeing(645, 'critical', 30)) });
    assert.equal(causes.length, 1, JSON.stringify(causes, null, 1));
    assert.equal(causes[0]!.kind, 'etcd-member');
    assert.equal(causes[0]!.severity, 'critical');
    assert.equal(causes[0]!.message, 'etcd member etcd-b: writes slow (307–645 ms), seen by 3 of 3 agents');
    assert.deepEqual(causes[0]!.seenBy, { agents: ['alpha', 'bravo', 'charlie'], of: 3 });
    assert.equal(causes[0]!.since, at(10));
  });

  void it('a member reached by different addresses is still one member, by its name', () => {
    const causes = causesOf({ alpha: answer(etcdSeeing(650, 'critical', 0, '127.0.0.1:2379')), bravo: answer(etcdSeeing(600, 'critical', 0)) });
    assert.deepEqual(
      causes.map((c) => c.message),
      ['etcd member etcd-b: writes slow (600–650 ms), seen by 2 of 2 agents'],
    );
  });

  void it("etcd quorum lost is one cause besides the members down, and TLS trouble stays the agent's", () => {
    const lost = (node: string) =>
      probe('etcd', 'critical', {
        reason: 'quorum-lost',
        ...etcdFacts({
          members: [
            member('10.0.0.1:2379', { name: 'etcd-a' }),
            member('10.0.0.2:2379', { up: false, putMs: null, problem: { verdict: 'critical', reason: 'unreachable' } }),
            member('10.0.0.3:2379', { up: false, putMs: null, problem: { verdict: 'critical', reason: 'unreachable' } }),
          ],
          clusterProblem: { verdict: 'critical', reason: 'quorum-lost' },
        }),
        message: `${node} sees quorum lost`,
      });
    const tls = probe('etcd', 'critical', {
      reason: 'tls',
      ...etcdFacts({ members: [member('10.0.0.1:2379', { up: false, putMs: null, problem: { verdict: 'critical', reason: 'tls' } })], clusterProblem: null }),
      message: 'etcd 10.0.0.1:2379: TLS handshake failed',
    });
    const causes = causesOf({ alpha: answer(lost('alpha')), bravo: answer(lost('bravo')), charlie: answer(tls) });
    assert.deepEqual(causes.map((c) => c.message).sort(), [
      'charlie: etcd critical: etcd 10.0.0.1:2379: TLS handshake failed',
      'etcd has lost quorum: seen by 2 of 3 agents',
      'etcd member 10.0.0.2:2379: down or unreachable, seen by 2 of 2 agents',
      'etcd member 10.0.0.3:2379: down or unreachable, seen by 2 of 2 agents',
    ]);
  });

  void it('the API server failing from every agent is the API server, and explains the probe pods failing with it', () => {
    const api = probe('apiserver', 'critical', { reason: 'api-error', message: 'GET https://10.96.0.1/livez: connect ECONNREFUSED' });
    const pods = probe('pod-scheduling', 'critical', { reason: 'api-error', message: 'creating the probe pod: connect ECONNREFUSED' });
    const causes = causesOf({ alpha: answer(api, pods), bravo: answer(api, pods), charlie: answer(api, pods) });
    assert.deepEqual(
      causes.map((c) => [c.kind, c.message]),
      [['apiserver-down', 'API server failing from every agent (3 of 3): GET https://10.96.0.1/livez: connect ECONNREFUSED']],
    );
  });

  void it("the API server failing from one agent is that node's path, with the failing checks", () => {
    const bad = probe('apiserver', 'critical', { reason: 'api-error', message: 'GET https://10.96.0.1/livez: timeout' });
    const pods = probe('pod-scheduling', 'critical', { reason: 'api-error', message: 'creating the probe pod: timeout' });
    const readyz = probe('apiserver', 'critical', { reason: 'readyz-failed', ...apiserverFacts({ failingChecks: { readyz: ['etcd', 'informer-sync'] } }) });
    const one = causesOf({ alpha: answer(probe('apiserver', 'ok'), probe('pod-scheduling', 'ok')), bravo: answer(bad, pods), charlie: answer(probe('apiserver', 'ok')) });
    assert.deepEqual(
      one.map((c) => [c.kind, c.nodes]),
      [['apiserver-path', ['bravo']]],
    );
    assert.match(one[0]!.message, /^API server failing from bravo only \(1 of 3 agents; the others reach it\): the path from that node — bravo: api-error: GET https:\/\/10\.96\.0\.1\/livez: timeout$/);
    const checks = causesOf({ alpha: answer(probe('apiserver', 'ok')), bravo: answer(readyz), charlie: answer(probe('apiserver', 'ok')) });
    assert.match(checks[0]!.message, /bravo: \/readyz failing: etcd,informer-sync/);
  });

  void it('DNS failing everywhere is cluster DNS; on one node, that node', () => {
    const bad = probe('dns', 'critical', { reason: 'timeout', message: 'kubernetes.default.svc (A): no answer in time' });
    const all = causesOf({ alpha: answer(bad), bravo: answer(bad), charlie: answer(bad) });
    assert.deepEqual(
      all.map((c) => [c.kind, c.message]),
      [['dns-down', 'cluster DNS failing from every agent (3 of 3): kubernetes.default.svc (A): no answer in time']],
    );
    const one = causesOf({ alpha: answer(probe('dns', 'ok')), bravo: answer(probe('dns', 'ok')), charlie: answer(bad) });
    assert.deepEqual(
      one.map((c) => [c.kind, c.nodes, c.message]),
      [['dns-node', ['charlie'], 'DNS failing on charlie only (1 of 3 agents; the others resolve): charlie: kubernetes.default.svc (A): no answer in time']],
    );
  });

  void it("no probe pod scheduled anywhere is the scheduler; one node's pods failing is its kubelet or runtime", () => {
    const unscheduled = probe('pod-scheduling', 'critical', { reason: 'unschedulable', message: 'probe pod not scheduled within 30.0 s', ...podFacts({ scheduled: false }) });
    const all = causesOf({ alpha: answer(unscheduled), bravo: answer(unscheduled), charlie: answer(unscheduled) });
    assert.deepEqual(
      all.map((c) => [c.kind, c.message]),
      [['scheduler', 'scheduler: no probe pod gets scheduled on any node (3 of 3): probe pod not scheduled within 30.0 s']],
    );
    const runtime = probe('pod-scheduling', 'critical', { reason: 'container-create', message: 'on node charlie: failed to create containerd task', ...podFacts({ scheduled: true }) });
    const one = causesOf({ alpha: answer(probe('pod-scheduling', 'ok')), bravo: answer(probe('pod-scheduling', 'ok')), charlie: answer(runtime) });
    assert.deepEqual(
      one.map((c) => [c.kind, c.nodes, c.message]),
      [['pod-startup', ['charlie'], 'kubelet or container runtime on charlie: probe pod container-create (on node charlie: failed to create containerd task); 2 of 3 nodes start theirs']],
    );
    const rejected = probe('pod-scheduling', 'critical', { reason: 'kubelet-rejected', message: "on node charlie: the kubelet rejected the pod (OutOfcpu): Node didn't have enough resource: cpu", ...podFacts({ scheduled: true }) });
    const full = causesOf({ alpha: answer(probe('pod-scheduling', 'ok')), bravo: answer(probe('pod-scheduling', 'ok')), charlie: answer(rejected) });
    assert.deepEqual(
      full.map((c) => [c.kind, c.nodes, c.message]),
      [['pod-startup', ['charlie'], "kubelet on charlie: probe pod kubelet-rejected (on node charlie: the kubelet rejected the pod (OutOfcpu): Node didn't have enough resource: cpu); 2 of 3 nodes start theirs"]],
    );
  });

  void it('a Kubernetes probe the API server did not answer is never blamed on the kubelet or named a probe failure: the API server from that node, or nothing once it has answered since', () => {
    const refused = (name: string, lastRun: number) => probe(name, 'critical', { reason: 'api-error', message: `read node charlie: cannot reach the API server: ECONNREFUSED`, lastRun: at(lastRun) });
    const apiOk = (lastRun: number) => probe('apiserver', 'ok', { lastRun: at(lastRun) });
    const healthy = answer(apiOk(60), probe('pod-scheduling', 'ok'), probe('control-plane', 'ok'));
    // The pod run failed during an outage that has ended: charlie's apiserver probe has had an answer since.
    const after = causesOf({ alpha: healthy, bravo: healthy, charlie: answer(apiOk(60), refused('pod-scheduling', 30), refused('control-plane', 50)) });
    assert.deepEqual(
      after.map((c) => [c.kind, c.message]),
      [],
    );
    // No answer since (the apiserver probe last ran before): the API server failing for charlie's requests.
    const now = causesOf({ alpha: healthy, bravo: healthy, charlie: answer(apiOk(20), refused('pod-scheduling', 30), refused('control-plane', 50)) });
    assert.deepEqual(
      now.map((c) => [c.kind, c.nodes, c.message]),
      [
        [
          'apiserver-path',
          ['charlie'],
          'API server failing from charlie only (no answer to that node since): pod-scheduling: read node charlie: cannot reach the API server: ECONNREFUSED; control-plane: read node charlie: cannot reach the API server: ECONNREFUSED',
        ],
      ],
    );
    // Every node's pod run unanswered, no answer since: the API server, once.
    const down = answer(apiOk(20), refused('pod-scheduling', 30));
    const all = causesOf({ alpha: down, bravo: down, charlie: down });
    assert.deepEqual(
      all.map((c) => [c.kind, c.message]),
      [['apiserver-down', "API server failing every agent's requests (3 of 3; no answer since): pod-scheduling: read node charlie: cannot reach the API server: ECONNREFUSED"]],
    );
  });

  void it("a node-local failure stays that node's, with since", () => {
    const disk = probe('node', 'warning', { reason: 'filesystem-full', message: '/var 91% used', since: at(42) });
    const causes = causesOf({ alpha: answer(probe('node', 'ok')), bravo: answer(disk), charlie: answer(probe('node', 'ok')) });
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes, c.message, c.since]),
      [['probe-failing', ['bravo'], 'bravo: node warning: /var 91% used', at(42)]],
    );
  });
});

void describe('since on network causes', () => {
  void it('a node down carries the earliest time its observers saw it go', () => {
    const edges = healthyMesh(N)
      .filter((e) => e.observer !== 'charlie')
      .map((e) => (e.peer === 'charlie' ? { ...e, up: false, failure: 'timeout' as const, clockOffsetSeconds: null, since: e.observer === 'alpha' ? T0 + 5000 : T0 + 3000 } : e));
    const causes = causesOf({ alpha: answer(), bravo: answer(), charlie: { ok: false, failure: 'timeout', error: 'timeout' } }, edges);
    assert.deepEqual(
      causes.map((c) => [c.kind, c.since]),
      [['node-down', at(3)]],
    );
  });
});

void describe('clock consensus', () => {
  const skewed = (offsets: Record<string, Record<string, number>>, nodes = N): Edge[] =>
    healthyMesh(nodes).flatMap((e) => (offsets[e.observer]?.[e.peer] === undefined ? [] : [{ ...e, clockOffsetSeconds: offsets[e.observer]![e.peer]!, clockOffSince: T0 }]));
  const ok = answer(probe('node', 'ok'));

  void it('one observer alone never names a peer (the skewed node sees healthy peers skewed)', () => {
    const causes = causesOf({ alpha: ok, bravo: ok, charlie: ok }, skewed({ alpha: { bravo: -2, charlie: -2 } }));
    assert.deepEqual(causes, []);
  });

  void it('an observer in disagreement with the rest does not make a healthy peer named', () => {
    const causes = causesOf({ alpha: ok, bravo: ok, charlie: ok }, skewed({ alpha: { bravo: -2 }, charlie: { bravo: 0.001 } }));
    assert.deepEqual(causes, []);
  });

  void it('the skewed node is named once two observers agree, and nobody else', () => {
    const causes = causesOf({ alpha: ok, bravo: ok, charlie: ok }, skewed({ alpha: { bravo: -2, charlie: -2 }, bravo: { alpha: 2.004, charlie: 0 }, charlie: { alpha: 2.008, bravo: 0 } }));
    assert.deepEqual(
      causes.map((c) => [c.kind, c.nodes, c.since]),
      [['clock-offset', ['alpha'], at(0)]],
    );
    assert.match(causes[0]!.message, /^clock of alpha is 2\.006 s ahead of 2 of 2 observers/);
  });

  void it('two nodes alone are named together', () => {
    const causes = causesOf({ alpha: ok, bravo: ok }, skewed({ alpha: { bravo: -2 }, bravo: { alpha: 2 } }, ['alpha', 'bravo']));
    assert.deepEqual(
      causes.map((c) => c.nodes),
      [['alpha', 'bravo']],
    );
  });
});
