import { z } from 'zod';
import { duration } from '../../config/fields.ts';
import { formatDuration } from '../../config/duration.ts';

/**
 * Deleting with a 1 s grace (the pod's own is 0) makes the API server wait for the kubelet to
 * confirm the pod stopped, so "delete → gone" times the kubelet, and a dead kubelet shows.
 * Delete options go in the body: the API server reads the query's only when there is no body.
 */
export const DELETE_GRACE_SECONDS = 1;
export const MIN_DELETION_TIMEOUT_MS = 5000;
/** How long the delete of a pod a failed run left behind may take before the next run's reaping is left to remove it. */
export const CLEANUP_TIMEOUT_MS = 5000;

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** A toleration, refused here when the API server's ValidateTolerations would refuse the pod. */
const toleration = z
  .strictObject({
    key: z.string().regex(QUALIFIED_NAME, 'must be a label name such as "example.com/dedicated"').optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().regex(LABEL_VALUE, 'must be a label value: up to 63 alphanumerics, "-", "_" or "."').optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .superRefine((t, ctx) => {
    if (!t.key && t.operator !== 'Exists') ctx.addIssue({ code: 'custom', path: ['operator'], message: 'must be "Exists" when key is empty (a toleration of every taint)' });
    if (t.operator === 'Exists' && t.value) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be empty when operator is "Exists"' });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], message: 'only applies to effect "NoExecute"' });
  });

export const options = z.object({
  /** A tiny image every node can pull; a private mirror's pause image in air-gapped clusters. */
  image: z.string().min(1, 'must not be empty').default('registry.k8s.io/pause:3.10'),
  priorityClassName: z.string().min(1, 'must not be empty').optional(),
  /** Default: tolerate every NoSchedule taint, as node agents do; a cordon is reported as skipped instead. */
  tolerations: z.array(toleration).default([{ operator: 'Exists', effect: 'NoSchedule' }]),
  /** Creation → bound to the node. */
  schedulingTimeout: duration({ min: 100 }).prefault('30s'),
  /** Creation → containers running. */
  startupTimeout: duration({ min: 100 }).prefault('60s'),
  /**
   * Deletion request → gone from the API. A real kubelet needs the pod's grace second, then a few
   * seconds of its status and clean-up loops, to confirm a deletion: shorter would fail healthy nodes.
   */
  deletionTimeout: duration()
    .refine((ms) => ms >= MIN_DELETION_TIMEOUT_MS, {
      error: (iss) => `must be at least ${formatDuration(MIN_DELETION_TIMEOUT_MS)} (a kubelet takes the pod's ${DELETE_GRACE_SECONDS} s grace period and about 2 s more to confirm a deletion), got ${formatDuration(iss.input as number)}`,
    })
    .prefault('30s'),
  /** The pod's activeDeadlineSeconds: the kubelet stops it even if the agent never comes back. */
  activeDeadline: duration({ min: 1000 }).prefault('5m'),
});
export type Options = z.output<typeof options>;
