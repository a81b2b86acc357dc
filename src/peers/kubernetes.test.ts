import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { podsToPeers, slimPod } from './kubernetes.ts';

const pod = (name: string, node: string | undefined, status: V1Pod['status'], extra: Partial<NonNullable<V1Pod['metadata']>> = {}): V1Pod => ({
  metadata: { name, creationTimestamp: new Date('2026-01-01T00:00:00Z'), ...extra },
  spec: { nodeName: node, containers: [] },
  status,
});

void describe('podsToPeers', () => {
  void it('one peer per node: the running pod with an IP, the newest during a rollout', () => {
    const peers = podsToPeers([
      pod('v-a', 'a', { phase: 'Running', podIP: '198.18.1.1', hostIP: '198.18.0.1' }),
      pod('v-b-old', 'b', { phase: 'Running', podIP: '198.18.1.2', hostIP: '198.18.0.2' }),
      pod('v-b-new', 'b', { phase: 'Running', podIP: '198.18.1.12', hostIP: '198.18.0.2' }, { creationTimestamp: new Date('2026-01-02T00:00:00Z') }),
      pod('v-b-pending', 'b', { phase: 'Pending', podIP: '198.18.1.22' }, { creationTimestamp: new Date('2026-01-03T00:00:00Z') }),
      pod('v-c-unscheduled', undefined, { phase: 'Pending' }),
      pod('v-d-no-ip', 'd', { phase: 'Pending' }),
      pod('v-e-terminating', 'e', { phase: 'Running', podIP: '198.18.1.5' }, { deletionTimestamp: new Date('2026-01-01T00:00:00Z') }),
      pod('v-f-failed', 'f', { phase: 'Failed', podIP: '198.18.1.6' }),
      pod('v-g', 'g', { phase: 'Running', podIP: '198.18.1.7' }),
    ]);
    assert.deepEqual(peers, [
      { node: 'a', podIP: '198.18.1.1', hostIP: '198.18.0.1' },
      { node: 'b', podIP: '198.18.1.12', hostIP: '198.18.0.2' },
      { node: 'g', podIP: '198.18.1.7' },
    ]);
  });
});

void describe('slimPod', () => {
  void it('keeps what discovery and the informer read, and nothing else', () => {
    const whole: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'v-a',
        namespace: 'vigil',
        uid: 'u1',
        resourceVersion: '42',
        creationTimestamp: new Date('2026-01-01T00:00:00Z'),
        labels: { app: 'vigil' },
        annotations: { big: 'x'.repeat(10_000) },
        managedFields: [{ manager: 'kubelet' }],
      },
      spec: { nodeName: 'a', containers: [{ name: 'vigil', image: 'vigil', env: [{ name: 'A', value: 'b' }] }], volumes: [{ name: 'data' }] },
      status: { phase: 'Running', podIP: '198.18.1.1', hostIP: '198.18.0.1', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [] },
    };
    const slim = slimPod(whole);
    assert.equal(slim, whole);
    assert.deepEqual(JSON.parse(JSON.stringify(slim)), {
      metadata: { name: 'v-a', namespace: 'vigil', uid: 'u1', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00.000Z' },
      spec: { nodeName: 'a', containers: [] },
      status: { phase: 'Running', podIP: '198.18.1.1', hostIP: '198.18.0.1' },
    });
    assert.deepEqual(podsToPeers([slim]), [{ node: 'a', podIP: '198.18.1.1', hostIP: '198.18.0.1' }]);
  });
});
