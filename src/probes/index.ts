import type { ProbeDefinition } from './probe.ts';
import { nodeProbe } from './node.ts';
import { etcdProbe } from './etcd.ts';

/** Every probe vigil ships; the order is the order of the status table. */
export const builtinProbes: readonly ProbeDefinition[] = [nodeProbe, etcdProbe];
