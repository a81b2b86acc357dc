import type { ProbeCondition } from '../probe.ts';
import type { PodSchedulingFacts } from './facts.ts';

const STARTUP_FAILURES: Record<string, string> = { 'image-pull': 'ImagePullFailing', 'container-create': 'ContainerCreateFailing', 'startup-timeout': 'ProbePodStartTimeout' };

/**
 * VigilPodStartup: the probe pod failing after it was scheduled here is this node's kubelet or
 * container runtime; a failure of the scheduler or the API server says nothing about the node.
 */
export const podStartupCondition: ProbeCondition<PodSchedulingFacts> = {
  type: 'VigilPodStartup',
  desired(self, { probe: p }) {
    const since = p.since === null ? {} : { since: Date.parse(p.since) };
    if (p.verdict !== 'critical') return { type: 'VigilPodStartup', status: 'False', reason: 'ProbePodStarts', message: `the probe pod starts on ${self}: ${p.message}`, ...since };
    const reason = STARTUP_FAILURES[p.reason ?? ''];
    if (!reason) return undefined;
    return { type: 'VigilPodStartup', status: 'True', reason, message: `the probe pod does not start on ${self} (kubelet or container runtime): ${p.message}`, ...since };
  },
};
