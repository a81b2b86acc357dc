import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom.ts';

/*
 * Every metric vigil exports, defined in one place (see docs/metrics.md).
 * Names carry the vigil_ prefix and base units; histogram bucket edges include the
 * default alert thresholds so alerts can be written as bucket ratios.
 */

function makers(registry: Registry) {
  const registers = [registry];
  return {
    g: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers }),
    /**
     * An unlabelled gauge that a probe run measures: absent until the first run sets it. (An
     * unlabelled prom-client gauge otherwise reads 0 from the start, and "no etcd leader" or "no
     * memory available" would be scraped from an agent that has not looked yet.)
     */
    measured: (name: string, help: string) => {
      const gauge = new Gauge({ name, help, registers });
      gauge.remove();
      return gauge;
    },
    c: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers }),
    h: <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) => new Histogram<L>({ name, help, buckets, labelNames, registers }),
  };
}

/** The agent's own metrics: build info, what the runner records for every probe, the HTTP server. */
export function createMetrics(registry: Registry, opts: { defaultMetrics?: boolean } = {}) {
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client exports these gauges with a _total suffix, which promtool rightly rejects.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }
  const { g, c, h } = makers(registry);

  return {
    registry,
    buildInfo: g('vigil_build_info', 'Always 1; labels carry the version of the running agent.', ['version', 'revision', 'nodejs_version']),

    // Common to every probe; recorded by the runner.
    probeSuccess: g('vigil_probe_success', 'Whether the last run of the probe had an ok verdict (1) or not (0).', ['probe']),
    probeVerdict: g('vigil_probe_verdict', 'Verdict of the last run of the probe: 0 ok, 1 warning, 2 critical.', ['probe']),
    probeDuration: h('vigil_probe_duration_seconds', 'How long probe runs took.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], ['probe']),
    probeRuns: c('vigil_probe_runs_total', 'Probe runs completed, whatever their verdict.', ['probe']),
    probeFailures: c('vigil_probe_failures_total', 'Probe runs whose verdict was not ok, by reason.', ['probe', 'reason']),
    probeSkippedRuns: c('vigil_probe_skipped_runs_total', 'Scheduled runs not started because the previous run of the probe had not finished.', ['probe']),
    probeLastSuccess: g('vigil_probe_last_success_timestamp_seconds', 'When the probe last finished with an ok verdict.', ['probe']),
    probeLastRun: g('vigil_probe_last_run_timestamp_seconds', 'When the probe last finished a run, whatever its verdict.', ['probe']),
    probeInterval: g('vigil_probe_interval_seconds', 'How often the probe is scheduled to run.', ['probe']),
    probeTimeout: g('vigil_probe_timeout_seconds', 'How long a run of the probe may take before it is aborted.', ['probe']),

    // HTTP server
    httpRequestsInFlight: g('vigil_http_requests_in_flight', 'HTTP requests being answered (liveness and readiness not counted).'),
    httpRequestsRejected: c('vigil_http_requests_rejected_total', 'HTTP requests and connections refused before a handler, by reason.', ['reason']),

    // The process
    unhandledRejections: c('vigil_unhandled_rejections_total', 'Promise rejections nothing handled: a bug, logged with its error; the agent keeps running.'),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/*
 * The metrics particular to each probe, made by the probe's factory when the agent runs it: an
 * agent that does not run a probe does not export them (an unlabelled gauge would otherwise read 0,
 * "etcd has no leader", on every agent with the probe turned off).
 */

/** The node probe's metrics. */
export function nodeMetrics(registry: Registry) {
  const { g, measured } = makers(registry);
  return {
    nodeFilesystemUsedRatio: g('vigil_node_filesystem_used_ratio', 'Fraction of the filesystem holding the path that is used.', ['path']),
    nodeMemoryAvailableRatio: measured('vigil_node_memory_available_ratio', 'Fraction of memory available to new workloads.'),
  };
}
export type NodeMetrics = ReturnType<typeof nodeMetrics>;

/** The etcd probe's metrics. */
export function etcdMetrics(registry: Registry) {
  const { g, c, h, measured } = makers(registry);
  return {
    etcdRequestDuration: h(
      'vigil_etcd_request_duration_seconds',
      "Latency of the probe's requests to each etcd member; one that timed out counts the time it waited.",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ['member', 'operation'],
    ),
    etcdRequestFailures: c('vigil_etcd_request_failures_total', "The probe's requests to each etcd member that failed, by kind: unreachable, timeout, tls, auth, error.", ['member', 'operation', 'kind']),
    etcdEndpointUp: g('vigil_etcd_endpoint_up', "Whether the etcd member answered the last probe (absent while the probe's TLS or auth settings are refused).", ['member']),
    etcdEndpointIsLeader: g('vigil_etcd_endpoint_is_leader', 'Whether the etcd member is the raft leader.', ['member']),
    etcdEndpointHasLeader: g('vigil_etcd_endpoint_has_leader', 'Whether the etcd member knows a raft leader (absent while it does not answer).', ['member']),
    etcdHasLeader: measured('vigil_etcd_has_leader', 'Whether any reachable etcd member reports a leader.'),
    etcdDbSize: g('vigil_etcd_db_size_bytes', "Size of the etcd member's database.", ['member']),
    etcdAlarm: g('vigil_etcd_alarm', 'Whether an alarm is raised on the etcd member.', ['member', 'alarm']),
  };
}
export type EtcdMetrics = ReturnType<typeof etcdMetrics>;

/** The pod-scheduling probe's metrics. */
export function podSchedulingMetrics(registry: Registry) {
  const { c, h } = makers(registry);
  return {
    podSchedulingDuration: h('vigil_pod_scheduling_duration_seconds', 'Time from probe pod creation to its binding to the node.', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]),
    podStartupDuration: h('vigil_pod_startup_duration_seconds', 'Time from probe pod creation to its containers running.', [0.5, 1, 2, 5, 10, 15, 30, 60, 120]),
    podDeletionDuration: h('vigil_pod_deletion_duration_seconds', "Time from the probe pod's deletion request to its disappearance.", [0.1, 0.5, 1, 2, 5, 10, 30, 60]),
    podProbeReaped: c('vigil_pod_probe_reaped_total', 'Leftover probe pods of this node deleted before a run.'),
  };
}
export type PodSchedulingMetrics = ReturnType<typeof podSchedulingMetrics>;

/** The apiserver probe's metrics. */
export function apiserverMetrics(registry: Registry) {
  const { h } = makers(registry);
  return {
    apiserverRequestDuration: h('vigil_apiserver_request_duration_seconds', "Latency of the API server's health endpoints.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], ['path']),
  };
}
export type ApiserverMetrics = ReturnType<typeof apiserverMetrics>;

/** The control-plane probe's metrics. */
export function controlPlaneMetrics(registry: Registry) {
  const { g } = makers(registry);
  return {
    controlPlaneLeaseAge: g('vigil_control_plane_lease_age_seconds', "Time since the component's leader lease was last renewed.", ['component']),
  };
}
export type ControlPlaneMetrics = ReturnType<typeof controlPlaneMetrics>;

/** The dns probe's metrics. */
export function dnsMetrics(registry: Registry) {
  const { h } = makers(registry);
  return {
    dnsLookupDuration: h('vigil_dns_lookup_duration_seconds', 'Latency of cluster DNS lookups.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
  };
}
export type DnsMetrics = ReturnType<typeof dnsMetrics>;

/**
 * The web config file's metrics, made only when the agent runs with one: without it there is
 * nothing to reload and no certificate (a 0 would read as a refused reload and a certificate that
 * expired in 1970). The certificate's expiry exists only when serving TLS, which needs a restart
 * to turn on or off.
 */
export function webConfigMetrics(registry: Registry, opts: { tls: boolean }) {
  const { g } = makers(registry);
  return {
    webConfigReloadSuccess: g('vigil_web_config_last_reload_successful', 'Whether the last reload of the web config file took effect (1) or was refused (0).'),
    webTlsCertificateExpiry: opts.tls ? g('vigil_web_tls_certificate_expiry_timestamp_seconds', 'When the serving TLS certificate expires.') : undefined,
  };
}
export type WebConfigMetrics = ReturnType<typeof webConfigMetrics>;

/** The peer mesh's metrics; made when the agent has peers to watch. */
/** When peers are reached over TLS. */
export function peerTlsMetrics(registry: Registry) {
  const { g } = makers(registry);
  return {
    peerTlsReloadSuccessful: g('vigil_peer_tls_reload_successful', 'Whether the peer TLS files (CA, client certificate and key) last read could be used (1), or a change to them could not and the previous ones stay in use (0).'),
  };
}

export function peerMeshMetrics(registry: Registry) {
  const { g, h } = makers(registry);
  return {
    peerUp: g('vigil_peer_up', 'Whether the peer answered the last ping over the network.', ['peer_node', 'network']),
    peerRtt: h('vigil_peer_rtt_seconds', 'Round-trip time of pings to peers.', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], ['network']),
    peerFailure: g('vigil_peer_failure', 'Present (1) while the last ping to the peer over the network failed, with how: refused (the host answered, no agent listens), timeout, unreachable, http, bad.', ['peer_node', 'network', 'kind']),
    peerClockOffset: g('vigil_peer_clock_offset_seconds', "Offset of the peer's clock from this node's (positive: the peer is ahead), the least the last ping allows: the midpoint estimate taken towards zero by half its round trip.", [
      'peer_node',
    ]),
    peersKnown: g('vigil_peers_known', 'Peers currently known from discovery.'),
    peersProbed: g('vigil_peers_probed', 'Peers this agent pings (its share of the bounded mesh).'),
  };
}
export type PeerMeshMetrics = ReturnType<typeof peerMeshMetrics>;

/** The writes the agent makes to the Kubernetes API (node conditions, events); made when they are turned on. */
export function kubernetesWriteMetrics(registry: Registry) {
  const { c } = makers(registry);
  return {
    writes: c('vigil_kubernetes_writes_total', 'Writes to the Kubernetes API by kind (node-condition, event) and result: ok, error, forbidden, or skipped (due but held back while the API server is known down).', ['kind', 'result']),
  };
}
export type KubernetesWriteMetrics = ReturnType<typeof kubernetesWriteMetrics>;
