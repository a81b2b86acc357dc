import type { ProbeDefinition } from './probe.ts';
import { nodeProbe } from './node.ts';
import { podSchedulingProbe } from './pod-scheduling.ts';

/** Every probe vigil ships; the order is the order of the status table. */
export const builtinProbes: readonly ProbeDefinition[] = [nodeProbe, podSchedulingProbe];
