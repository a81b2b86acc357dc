import { z } from 'zod';

const problem = z.object({ verdict: z.enum(['warning', 'critical']), reason: z.string().max(63) });

/** What a run of the etcd probe states for code: each member as this agent saw it, and the cluster's own problem. */
export const etcdFacts = z.object({
  members: z
    .array(
      z.object({
        /** As configured: host:port. */
        endpoint: z.string().max(300),
        /** The member's name as etcd reports it; null when unknown (it did not answer). */
        name: z.string().max(253).nullable(),
        up: z.boolean(),
        /** The worst problem with this member, if any. */
        problem: problem.nullable(),
        putMs: z.number().nullable(),
        /** Alarms raised on this member. */
        alarms: z.array(z.string().max(63)).max(8),
      }),
    )
    .max(64),
  /** A problem of the cluster as a whole (quorum lost, no leader), if any. */
  clusterProblem: problem.nullable(),
});
export type EtcdFacts = z.output<typeof etcdFacts>;
