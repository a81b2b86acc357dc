import { z } from 'zod';

/** What a run of the pod-scheduling probe states for code. */
export const podSchedulingFacts = z.object({
  /** The probe pod was seen bound to the node: whatever failed after that is not the scheduler's. */
  scheduled: z.boolean(),
});
export type PodSchedulingFacts = z.output<typeof podSchedulingFacts>;
