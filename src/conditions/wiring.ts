import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { kubernetesWriteMetrics } from '../metrics/metrics.ts';
import type { Peers } from '../peers/index.ts';
import type { LocalStatus } from '../status/local.ts';
import type { CompletedRun } from '../verdict.ts';
import type { KubeClients } from '../k8s/client.ts';
import { NodeConditionWriter } from './writer.ts';
import { builtinProbes } from '../probes/index.ts';
import { desiredConditions } from './desired.ts';

/** The probes whose verdict says the API server is down from here. */
const API_CHECKERS = new Set(builtinProbes.filter((d) => d.checksApi).map((d) => d.name));

/**
 * The writer fed from the agent's own evidence: after each probe result, the conditions the local
 * status and the peer observations support, and what the API server's probe last said.
 */
export function startNodeConditions(deps: { config: Config; kubernetes: () => Promise<KubeClients>; clock: Clock; logger: Logger; registry: Registry; status: LocalStatus; peers: Peers }) {
  const { config, status, peers } = deps;
  const writer = new NodeConditionWriter({ node: config.node.name, kubernetes: deps.kubernetes, clock: deps.clock, logger: deps.logger, metrics: kubernetesWriteMetrics(deps.registry) });
  let apiDown = false;
  let apiOkAt: number | null = null;
  return {
    observe(run: CompletedRun): void {
      if (API_CHECKERS.has(run.probe) && !run.result.skipped) {
        apiDown = run.result.verdict === 'critical';
        if (run.result.verdict === 'ok') apiOkAt = run.finishedAt;
      }
      const desired = desiredConditions({ self: config.node.name, probes: status.snapshot().probes, peers: peers.observations(), clockOffsetThresholdSeconds: config.peers.clockOffsetThreshold / 1000 });
      writer.observe(desired, { down: apiDown, lastOkAt: apiOkAt });
    },
    stop: () => writer.stop(),
  };
}
