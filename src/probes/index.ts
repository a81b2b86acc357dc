import type { ProbeDefinition } from './probe.ts';
import { nodeProbe } from './node.ts';
import { podSchedulingProbe } from './pod-scheduling.ts';
import { etcdProbe } from './etcd.ts';
import { apiserverProbe } from './apiserver.ts';
import { controlPlaneProbe } from './control-plane.ts';
import { dnsProbe } from './dns.ts';

/** Every probe vigil ships; the order is the order of the status table. */
export const builtinProbes: readonly ProbeDefinition[] = [nodeProbe, podSchedulingProbe, etcdProbe, apiserverProbe, controlPlaneProbe, dnsProbe];
