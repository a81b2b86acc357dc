import { createHash } from 'node:crypto';
import type { V1Pod, V1Toleration } from '@kubernetes/client-node';

export const MANAGED_BY = 'vigil';

/** Label values are at most 63 characters; longer node names keep a prefix and a hash. */
export function nodeLabelValue(node: string): string {
  if (node.length <= 63) return node;
  return `${node.slice(0, 52).replace(/[-.]+$/, '')}-${createHash('sha256').update(node).digest('hex').slice(0, 10)}`;
}

/** One fixed name per node: the API server then refuses a second probe pod for the node (409). */
export function probePodName(node: string): string {
  const name = `vigil-probe-${node}`;
  if (name.length <= 253) return name;
  return `vigil-probe-${node.slice(0, 220).replace(/[-.]+$/, '')}-${createHash('sha256').update(node).digest('hex').slice(0, 10)}`;
}

export const probePodSelector = (node: string) => `app.kubernetes.io/managed-by=${MANAGED_BY},vigil.io/probe=pod-scheduling,vigil.io/node=${nodeLabelValue(node)}`;

export interface ProbePodOptions {
  node: string;
  namespace: string;
  image: string;
  priorityClassName?: string;
  tolerations: V1Toleration[];
  activeDeadlineSeconds: number;
}

/** The probe pod: pinned to the node by required node affinity on its name, tiny, quick to kill. */
export function probePodManifest(o: ProbePodOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: probePodName(o.node),
      namespace: o.namespace,
      labels: { 'app.kubernetes.io/managed-by': MANAGED_BY, 'vigil.io/probe': 'pod-scheduling', 'vigil.io/node': nodeLabelValue(o.node) },
    },
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [o.node] }] }] },
        },
      },
      containers: [
        {
          name: 'pause',
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          // Limits as well as requests: a namespace's limits.cpu/limits.memory quota refuses pods
          // without them. The CPU limit is a CFS quota the runtime's own init process (runc init)
          // runs under before pause does: at 10m a start took 2.1 s instead of 0.17 s, throttled
          // for 20 periods; at 250m it is not throttled (bench/pod-cpu-limit.ts). The request
          // stays 1m, so the pod still fits on a full node.
          resources: { requests: { cpu: '1m', memory: '4Mi' }, limits: { cpu: '250m', memory: '32Mi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
      // Everything PodSecurity "restricted" asks, so the pod is admitted in any namespace.
      securityContext: { runAsNonRoot: true, runAsUser: 65535, runAsGroup: 65535, seccompProfile: { type: 'RuntimeDefault' } },
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      tolerations: o.tolerations,
      ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}),
    },
  };
}

export type PodFailureReason = 'image-pull' | 'container-create' | 'kubelet-rejected';

export interface PodProgress {
  scheduled: boolean;
  running: boolean;
  /** The scheduler's last word while the pod waits: "0/5 nodes are available: ...". */
  schedulerMessage?: string;
  /** What the containers wait on ("ContainerCreating"), for timeout messages. */
  waiting?: string;
  /** `retrying`: the kubelet keeps trying (image pulls back off and retry, failed creates are created again); only a timeout makes it final. */
  failure?: { reason: PodFailureReason; message: string; retrying?: boolean };
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable', 'SignatureValidationFailed']);
/** Pull states the kubelet leaves by pulling again (pkg/kubelet/images/image_manager.go backs off and retries). */
const PULL_RETRIED = new Set(['ErrImagePull', 'ImagePullBackOff', 'RegistryUnavailable']);
/** The prefix of every status message the kubelet writes when its admission refuses a pod. */
const REJECTED = 'Pod was rejected:';
const CONTAINER_CREATE = new Set(['CreateContainerError', 'CreateContainerConfigError', 'RunContainerError', 'StartError', 'ContainerCannotRun', 'CrashLoopBackOff', 'PreCreateHookError', 'PreStartHookError', 'PostStartHookError']);
/**
 * Waiting states of a container that was never created, or created and never started: the kubelet
 * tries again at its next sync whatever the restartPolicy (pkg/kubelet/container/helpers.go
 * ShouldContainerBeRestarted: no status, or state Created, means start it), so a transient runtime
 * error heals by itself. A container that ran and exited is final under restartPolicy Never.
 */
const CREATE_RETRIED = new Set(['CreateContainerError', 'CreateContainerConfigError', 'PreCreateHookError', 'PreStartHookError', 'RunContainerError']);

/** Where a probe pod stands, read from one watch event's object. */
export function podProgress(pod: V1Pod): PodProgress {
  const conds = pod.status?.conditions ?? [];
  const schedCond = conds.find((c) => c.type === 'PodScheduled');
  const scheduled = Boolean(pod.spec?.nodeName) || schedCond?.status === 'True';
  const statuses = pod.status?.containerStatuses ?? [];
  const running = pod.status?.phase === 'Running' && statuses.length > 0 && statuses.every((s) => s.state?.running);
  const p: PodProgress = { scheduled, running };
  if (!scheduled && schedCond?.status === 'False' && schedCond.message) p.schedulerMessage = schedCond.message;
  // The kubelet's admission refused the pod before creating any container (kubelet.go rejectPod
  // writes phase Failed, its reason and "Pod was rejected: ..."): the node, not the runtime.
  if (pod.status?.phase === 'Failed' && pod.status.message?.startsWith(REJECTED)) {
    p.failure = { reason: 'kubelet-rejected', message: `the kubelet rejected the pod (${pod.status.reason ?? 'no reason given'}): ${pod.status.message.slice(REJECTED.length).trim()}` };
    return p;
  }
  for (const s of statuses) {
    const w = s.state?.waiting;
    const t = s.state?.terminated;
    if (w?.reason) {
      p.waiting = w.message ? `${w.reason}: ${w.message}` : w.reason;
      if (IMAGE_PULL.has(w.reason)) p.failure = { reason: 'image-pull', message: `image ${s.image} cannot be pulled: ${p.waiting}`, ...(PULL_RETRIED.has(w.reason) ? { retrying: true } : {}) };
      else if (CONTAINER_CREATE.has(w.reason)) p.failure = { reason: 'container-create', message: `container cannot be started: ${p.waiting}`, ...(CREATE_RETRIED.has(w.reason) ? { retrying: true } : {}) };
    } else if (t && !running) {
      p.failure = { reason: 'container-create', message: `container exited (${t.reason ?? 'terminated'}, code ${t.exitCode ?? '?'})${t.message ? `: ${t.message}` : ''}` };
    }
  }
  if (!p.failure && pod.status?.phase === 'Failed') {
    p.failure = { reason: 'container-create', message: `the kubelet failed the pod: ${pod.status.reason ?? 'Failed'}${pod.status.message ? `: ${pod.status.message}` : ''}` };
  }
  return p;
}
