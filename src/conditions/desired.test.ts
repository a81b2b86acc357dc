import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerObservation } from '../status/cluster-types.ts';
import type { ProbeStatus } from '../status/local.ts';
import { desiredConditions } from './desired.ts';

const probe = (verdict: ProbeStatus['verdict'], reason: string | null, message: string): ProbeStatus => ({
  name: 'pod-scheduling',
  verdict,
  reason,
  message,
  since: null,
  lastRun: null,
  durationSeconds: null,
  skipped: false,
  observations: null,
});
const obs = (peer: string, network: 'pod' | 'host', up: boolean, clockOffsetSeconds: number | null = up ? 0.001 : null): PeerObservation => ({
  peer,
  network,
  up,
  rttSeconds: up ? 0.001 : null,
  clockOffsetSeconds,
  lastChecked: '2026-01-01T00:00:00Z',
  error: up ? null : 'timeout',
  failure: up ? null : 'timeout',
});
const of = (type: string, probes: ProbeStatus[], peers: PeerObservation[] = []) => desiredConditions({ self: 'a', probes, peers, clockOffsetThresholdSeconds: 0.5 }).find((c) => c.type === type);

void test('VigilPodStartup: True only for failures after scheduling (image pull, container create, start timeout); API and scheduler failures say nothing of the node', () => {
  assert.deepEqual(of('VigilPodStartup', [probe('critical', 'image-pull', 'on node a: ErrImagePull: 403 Forbidden')]), {
    type: 'VigilPodStartup',
    status: 'True',
    reason: 'ImagePullFailing',
    message: 'the probe pod does not start on a (kubelet or container runtime): on node a: ErrImagePull: 403 Forbidden',
  });
  assert.equal(of('VigilPodStartup', [probe('critical', 'container-create', 'on node a: CreateContainerError')])?.reason, 'ContainerCreateFailing');
  assert.equal(of('VigilPodStartup', [probe('critical', 'startup-timeout', 'probe pod scheduled on a in 0.1 s but not running after 30 s')])?.reason, 'ProbePodStartTimeout');
  // the run timed out by the runner, or the pod not gone after its deletion: not a start that failed
  for (const [reason, message] of [
    ['unschedulable', 'probe pod not scheduled in 10 s'],
    ['api-error', 'read node a: cannot reach the API server'],
    ['forbidden', 'create: forbidden'],
    ['timeout', 'pod-scheduling: no result within 30000 ms'],
    ['deletion-timeout', 'probe pod ran on a but is still terminating 30 s after its deletion'],
  ]) {
    assert.equal(of('VigilPodStartup', [probe('critical', reason!, message!)]), undefined, `${reason}: not the node's`);
  }
  assert.equal(of('VigilPodStartup', [probe('ok', null, 'scheduled in 0.1 s, running in 0.5 s')])?.status, 'False');
  assert.equal(of('VigilPodStartup', [probe('unknown', null, 'not run yet')]), undefined);
  assert.equal(of('VigilPodStartup', []), undefined, 'no pod probe, no condition');
});

void test("VigilOverlayNetwork: True when the pod path fails to most peers whose host path answers, never on one peer's word", () => {
  const broken = [obs('b', 'pod', false), obs('b', 'host', true), obs('c', 'pod', false), obs('c', 'host', true), obs('d', 'pod', true), obs('d', 'host', true)];
  const c = of('VigilOverlayNetwork', [], broken)!;
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'PodNetworkUnreachable');
  assert.match(c.message, /does not reach 2 of 3 peers whose host path answers \(b, c\)/);
  assert.equal(
    of('VigilOverlayNetwork', [], [obs('b', 'pod', false), obs('b', 'host', true), obs('c', 'pod', true), obs('c', 'host', true), obs('d', 'pod', true), obs('d', 'host', true)])?.status,
    'False',
    "one peer's overlay is that peer's problem",
  );
  assert.equal(of('VigilOverlayNetwork', [], [obs('b', 'pod', false), obs('b', 'host', true)]), undefined, 'one peer: cannot tell');
  assert.equal(of('VigilOverlayNetwork', [], [obs('b', 'pod', false), obs('b', 'host', false), obs('c', 'pod', false), obs('c', 'host', false)]), undefined, 'peers down on both paths: not the overlay');
});

void test('VigilClock: True when the peers agree with each other and not with this node; a lone peer or disagreeing peers name nobody', () => {
  const ahead = [obs('b', 'pod', true, -2.0), obs('c', 'pod', true, -2.01), obs('d', 'pod', true, -1.99)];
  const c = of('VigilClock', [], ahead)!;
  assert.equal(c.status, 'True');
  assert.match(c.message, /^the clock of a is 2\.000 s ahead of 3 of 3 peers/);
  assert.equal(of('VigilClock', [], [obs('b', 'pod', true, 0.01), obs('c', 'pod', true, -0.02)])?.status, 'False');
  assert.equal(of('VigilClock', [], [obs('b', 'pod', true, -2)]), undefined, 'one peer cannot say whose clock it is');
  // one peer skewed (its clock, not ours): the median is in sync
  assert.equal(of('VigilClock', [], [obs('b', 'pod', true, 2), obs('c', 'pod', true, 0), obs('d', 'pod', true, 0.01)])?.status, 'False');
  assert.equal(of('VigilClock', [], [obs('b', 'pod', true, 2), obs('c', 'pod', true, -2)]), undefined, 'two peers that disagree: no consensus');
});
