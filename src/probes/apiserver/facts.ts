import { z } from 'zod';

/** What a run of the apiserver probe states for code. */
export const apiserverFacts = z.object({
  /** Per endpoint (livez, readyz) that answered unhealthy: the checks it named failing (none named: empty). */
  failingChecks: z.object({ livez: z.array(z.string().max(200)).max(64).optional(), readyz: z.array(z.string().max(200)).max(64).optional() }),
});
export type ApiserverFacts = z.output<typeof apiserverFacts>;
