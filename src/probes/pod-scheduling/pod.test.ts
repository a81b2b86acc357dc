import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { nodeLabelValue, podProgress, probePodManifest, probePodName, probePodSelector } from './pod.ts';

void test('the probe pod is pinned to its node by name, tiny, and carries the labels reaping selects on', () => {
  const pod = probePodManifest({ node: 'worker-1', namespace: 'vigil', image: 'registry.k8s.io/pause:3.10', tolerations: [], activeDeadlineSeconds: 180 });
  assert.equal(pod.metadata!.name, 'vigil-probe-worker-1');
  assert.deepEqual(pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchFields, [{ key: 'metadata.name', operator: 'In', values: ['worker-1'] }]);
  assert.equal(pod.spec!.terminationGracePeriodSeconds, 0);
  assert.equal(pod.spec!.activeDeadlineSeconds, 180);
  assert.deepEqual(
    pod.spec!.containers[0]!.resources,
    { requests: { cpu: '1m', memory: '4Mi' }, limits: { cpu: '250m', memory: '32Mi' } },
    'limits too (a limits.cpu quota refuses pods without), the CPU limit high enough not to throttle the runtime starting it',
  );
  // PodSecurity "restricted": non-root, no escalation, no capabilities, RuntimeDefault seccomp.
  assert.deepEqual(pod.spec!.securityContext, { runAsNonRoot: true, runAsUser: 65535, runAsGroup: 65535, seccompProfile: { type: 'RuntimeDefault' } });
  assert.deepEqual(pod.spec!.containers[0]!.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  assert.equal(probePodSelector('worker-1'), 'app.kubernetes.io/managed-by=vigil,vigil.io/probe=pod-scheduling,vigil.io/node=worker-1');
  for (const [k, v] of Object.entries(pod.metadata!.labels!)) assert.ok(probePodSelector('worker-1').includes(`${k}=${v}`));
});

void test('long node names still give valid, distinct label values and pod names', () => {
  const a = `${'n'.repeat(70)}.example.com`;
  const b = `${'n'.repeat(70)}.example.org`;
  assert.ok(nodeLabelValue(a).length <= 63);
  assert.notEqual(nodeLabelValue(a), nodeLabelValue(b));
  assert.match(nodeLabelValue(a), /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  assert.ok(probePodName('x'.repeat(260)).length <= 253);
});

const pod = (status: V1Pod['status'], nodeName?: string): V1Pod => ({ spec: { containers: [], ...(nodeName ? { nodeName } : {}) }, status });

void test('progress: waiting on the scheduler, scheduled, running', () => {
  const waiting = podProgress(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 1 node(s) were unschedulable.' }] }));
  assert.deepEqual(waiting, { scheduled: false, running: false, schedulerMessage: '0/3 nodes are available: 1 node(s) were unschedulable.' });
  const bound = podProgress(pod({ phase: 'Pending', containerStatuses: [{ name: 'pause', image: 'p', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }, 'a'));
  assert.deepEqual(bound, { scheduled: true, running: false, waiting: 'ContainerCreating' });
  const up = podProgress(pod({ phase: 'Running', containerStatuses: [{ name: 'pause', image: 'p', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] }, 'a'));
  assert.deepEqual(up, { scheduled: true, running: true });
});

void test('progress: image pull and container creation failures are recognised with the runtime message', () => {
  const cs = (reason: string, message: string) => pod({ phase: 'Pending', containerStatuses: [{ name: 'pause', image: 'registry.k8s.io/nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] }, 'a');
  assert.deepEqual(podProgress(cs('ImagePullBackOff', 'Back-off pulling image "registry.k8s.io/nope:1"')).failure, {
    reason: 'image-pull',
    message: 'image registry.k8s.io/nope:1 cannot be pulled: ImagePullBackOff: Back-off pulling image "registry.k8s.io/nope:1"',
    retrying: true,
  });
  assert.equal(podProgress(cs('ErrImagePull', 'not found')).failure?.retrying, true, 'the kubelet pulls again');
  assert.equal(podProgress(cs('InvalidImageName', 'bad')).failure?.retrying, undefined, 'a bad name never heals');
  assert.deepEqual(podProgress(cs('CreateContainerError', 'OCI runtime create failed')).failure, {
    reason: 'container-create',
    message: 'container cannot be started: CreateContainerError: OCI runtime create failed',
    retrying: true,
  });
  for (const reason of ['CreateContainerConfigError', 'PreCreateHookError', 'PreStartHookError', 'RunContainerError']) {
    assert.equal(podProgress(cs(reason, 'x')).failure?.retrying, true, `${reason}: never created or never started, so the kubelet creates it again`);
  }
  assert.equal(podProgress(cs('CrashLoopBackOff', 'back-off 10s restarting failed container')).failure?.retrying, undefined, 'a container that ran and exited is not retried under restartPolicy Never');
  const exited = pod({ phase: 'Failed', containerStatuses: [{ name: 'pause', image: 'p', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec format error' } } }] }, 'a');
  assert.deepEqual(podProgress(exited).failure, { reason: 'container-create', message: 'container exited (StartError, code 128): exec format error' });
});

void test("progress: a pod the kubelet refused at admission is its own failure, with the kubelet's reason and message", () => {
  const rejected = (status: object) => podProgress(pod({ phase: 'Failed', ...status }, 'a')).failure;
  assert.deepEqual(rejected({ reason: 'OutOfcpu', message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, used: 3950, capacity: 4000" }), {
    reason: 'kubelet-rejected',
    message: "the kubelet rejected the pod (OutOfcpu): Node didn't have enough resource: cpu, requested: 1000, used: 3950, capacity: 4000",
  });
  // A kubelet that marks the never-created containers as unknown still reads as a rejection.
  const unknown = [{ name: 'pause', image: 'p', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } }];
  assert.equal(rejected({ reason: 'NodeAffinity', message: "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector", containerStatuses: unknown })?.reason, 'kubelet-rejected');
  // A pod the kubelet failed after admission is not a rejection.
  assert.deepEqual(rejected({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }), {
    reason: 'container-create',
    message: 'the kubelet failed the pod: DeadlineExceeded: Pod was active on the node longer than the specified deadline',
  });
});
