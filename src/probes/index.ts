import type { ProbeDefinition } from './probe.ts';
import { nodeProbe } from './node/probe.ts';
import { podSchedulingProbe } from './pod-scheduling/probe.ts';
import { etcdProbe } from './etcd/probe.ts';
import { apiserverProbe } from './apiserver/probe.ts';
import { controlPlaneProbe } from './control-plane/probe.ts';
import { dnsProbe } from './dns/probe.ts';

/** Every probe vigil ships; the order is the order of the status table. */
export const builtinProbes: readonly ProbeDefinition[] = [nodeProbe, podSchedulingProbe, etcdProbe, apiserverProbe, controlPlaneProbe, dnsProbe];
