// Synthetic agents: for one agent process, the series a real one exports, with the real metric
// definitions (src/metrics/metrics.ts: names, help, label names, bucket edges) and the real
// probes' schedules and reasons (src/probes), and values that follow the cluster's scripted faults.
// A process is advanced lazily: on each scrape, every probe run due since the last one is played
// at its own virtual time, so counters only increase and histograms grow as real ones do.
import { COMMON_REASONS } from '../../../src/verdict.ts';
import { builtinProbes } from '../../../src/probes/index.ts';
import { PEER_MESH_PROBE } from '../../../src/peers/mesh-probe.ts';
import { ETCD_ALARMS } from '../../../src/etcd/metrics.ts';
import { MEMBER_FAILURE_KINDS } from '../../../src/etcd/verdict.ts';
import type { Registry } from '../../../src/metrics/prom.ts';
import { apiserverMetrics, controlPlaneMetrics, createMetrics, dnsMetrics, etcdMetrics, nodeMetrics, peerMeshMetrics, podSchedulingMetrics } from '../../../src/metrics/metrics.ts';
import { Exposition, type Family } from './exposition.ts';
import { ping, reachesControlPlane, seeded, type ClusterNode, type Faults } from './world.ts';

// The real factories, named once so their definitions are read once.
const agentFactory = (r: Registry) => createMetrics(r, { defaultMetrics: false });
const factories = { agentFactory, nodeMetrics, podSchedulingMetrics, apiserverMetrics, controlPlaneMetrics, dnsMetrics, peerMeshMetrics, etcdMetrics };

/** What an agent can know of its cluster: the scripted faults and which peers' agents exist and run. */
export interface ClusterView {
  cluster: string;
  nodes: readonly ClusterNode[];
  faults(v: number): Faults;
  /** The node's main agent at v: undefined while it has no pod (peers forget it), running false while its process is down. */
  agentAt(node: string, v: number): { running: boolean } | undefined;
  /** Epoch seconds of virtual time v, as a correct clock reads it. */
  wallSeconds(v: number): number;
}

type RunResult = { seconds: number } & ({ ok: true } | { ok: false; reason: string });
interface SimProbe {
  name: string;
  /** Virtual seconds. */
  interval: number;
  reasons: readonly string[];
  run(at: number): RunResult;
}

/** The jitter the runner applies to every interval (RUN_JITTER). */
const JITTER = 0.1;
const ok = (seconds: number): RunResult => ({ ok: true, seconds });
const failed = (reason: string, seconds: number): RunResult => ({ ok: false, reason, seconds });

const definition = (name: string) => {
  const d = builtinProbes.find((p) => p.name === name);
  if (!d) throw new Error(`no probe ${name} in src/probes`);
  return d;
};

/**
 * One run of an agent process (a container start), from `startedAt` until it stops: its own
 * registry, as a real agent has, starting from zero.
 */
export class SimProcess {
  readonly exposition = new Exposition();
  readonly #view: ClusterView;
  readonly #node: string;
  readonly #common: { [K in keyof ReturnType<typeof createMetrics>]: Family };
  readonly #probes: SimProbe[];
  readonly #next = new Map<SimProbe, number>();
  readonly #random: () => number;

  constructor(opts: { view: ClusterView; node: string; startedAt: number; seed: string; probes: (exposition: Exposition, random: () => number) => SimProbe[] }) {
    this.#view = opts.view;
    this.#node = opts.node;
    this.#random = seeded(opts.seed);
    this.#common = this.exposition.adopt(factories.agentFactory);
    this.#common.buildInfo.set({ version: '0.1.0', revision: 'matrix', nodejs_version: process.version }, 1);
    this.#common.httpRequestsInFlight.set(1);
    this.#probes = opts.probes(this.exposition, this.#random);
    for (const p of this.#probes) {
      const labels = { probe: p.name };
      this.#common.probeRuns.inc(labels, 0);
      this.#common.probeSkippedRuns.inc(labels, 0);
      // The configured (shipped) interval and timeout, in real seconds like every constant in the
      // rules' expressions: rulesScaled compresses windows and `for`s, not these comparisons.
      const def = p.name === PEER_MESH_PROBE ? { defaultInterval: 10_000, defaultTimeout: 2_000 } : definition(p.name);
      this.#common.probeInterval.set(labels, def.defaultInterval / 1000);
      this.#common.probeTimeout.set(labels, def.defaultTimeout / 1000);
      for (const reason of new Set([...COMMON_REASONS, ...p.reasons])) this.#common.probeFailures.inc({ ...labels, reason }, 0);
      // The runner starts each probe after a random fraction of the jitter window.
      this.#next.set(p, opts.startedAt + this.#random() * JITTER * p.interval);
    }
  }

  /** Plays every run due up to virtual time v. */
  advance(v: number): void {
    for (const p of this.#probes) {
      let at = this.#next.get(p)!;
      while (at <= v) {
        this.#record(p, at, p.run(at));
        at += p.interval * (1 + JITTER * (2 * this.#random() - 1));
      }
      this.#next.set(p, at);
    }
  }

  render(v: number): string {
    this.advance(v);
    return this.exposition.render();
  }

  #record(p: SimProbe, at: number, r: RunResult): void {
    const m = this.#common;
    const labels = { probe: p.name };
    // The agent's own clock, which a scenario may set wrong.
    const stamp = this.#view.wallSeconds(at) + (this.#view.faults(at).clockOffset?.[this.#node] ?? 0);
    m.probeRuns.inc(labels);
    m.probeDuration.observe(labels, r.seconds);
    m.probeLastRun.set(labels, stamp);
    m.probeSuccess.set(labels, r.ok ? 1 : 0);
    m.probeVerdict.set(labels, r.ok ? 0 : 2);
    if (r.ok) m.probeLastSuccess.set(labels, stamp);
    else m.probeFailures.inc({ ...labels, reason: r.reason });
  }
}

const vary = (random: () => number, base: number, spread = 0.3) => base * (1 + spread * (2 * random() - 1));
const renewedEvery = 2;
const CONTROL_PLANE_COMPONENTS = ['kube-scheduler', 'kube-controller-manager'];
/** maxLeaseAge, as shipped: an older lease fails the control-plane probe. */
const MAX_LEASE_AGE = 30;
/** The etcd probe's request timeout: a quarter of its 8 s run timeout. */
const ETCD_REQUEST_TIMEOUT = 2;
/** The member that leads while the cluster is healthy. */
const ETCD_LEADER = 'cp-1';

/** The probes of the main agent (deploy/base/config.yaml: node, pod-scheduling, apiserver, control-plane, dns, and the peer mesh). */
export function mainAgentProbes(view: ClusterView, node: string) {
  return (x: Exposition, random: () => number): SimProbe[] => {
    const nodeM = x.adopt(factories.nodeMetrics);
    nodeM.nodeMemoryAvailableRatio.remove({});
    const podM = x.adopt(factories.podSchedulingMetrics);
    const apiM = x.adopt(factories.apiserverMetrics);
    const cpM = x.adopt(factories.controlPlaneMetrics);
    const dnsM = x.adopt(factories.dnsMetrics);
    const peerM = x.adopt(factories.peerMeshMetrics);
    const spec = (name: string, run: (at: number, f: Faults) => RunResult): SimProbe => {
      const d = definition(name);
      return { name, interval: d.defaultInterval / 1000, reasons: d.reasons, run: (at) => run(at, view.faults(at)) };
    };
    const peerFailures = new Map<string, string>();
    const known = new Set<string>();
    return [
      spec('node', (_, f) => {
        const used = f.filesystemUsed?.[node] ?? 0.42;
        nodeM.nodeFilesystemUsedRatio.set({ path: '/' }, used);
        nodeM.nodeMemoryAvailableRatio.set(vary(random, 0.61, 0.02));
        return used >= 0.8 ? failed('filesystem-full', 0.003) : ok(vary(random, 0.003));
      }),
      spec('pod-scheduling', (_, f) => {
        if (!reachesControlPlane(f, node)) return failed('api-error', vary(random, 2));
        if (f.podScheduling) return failed(f.podScheduling.reason, f.podScheduling.reason === 'unschedulable' ? 30 : 60);
        const scheduled = vary(random, 0.35);
        const running = scheduled + vary(random, 1.8);
        podM.podSchedulingDuration.observe(scheduled);
        podM.podStartupDuration.observe(running);
        podM.podDeletionDuration.observe(vary(random, 2.6, 0.1));
        return ok(running + 2.7);
      }),
      spec('apiserver', (_, f) => {
        if (!reachesControlPlane(f, node)) return failed('api-error', 10);
        if (f.apiserver && (!f.apiserver.nodes || f.apiserver.nodes.includes(node))) {
          if (f.apiserver.reason !== 'api-error') apiM.apiserverRequestDuration.observe({ path: f.apiserver.reason === 'livez-failed' ? 'livez' : 'readyz' }, vary(random, 0.02));
          return failed(f.apiserver.reason, f.apiserver.reason === 'api-error' ? vary(random, 0.01) : vary(random, 0.05));
        }
        apiM.apiserverRequestDuration.observe({ path: 'livez' }, vary(random, 0.008));
        apiM.apiserverRequestDuration.observe({ path: 'readyz' }, vary(random, 0.012));
        return ok(vary(random, 0.025));
      }),
      spec('control-plane', (at, f) => {
        if (!reachesControlPlane(f, node) || f.leasesUnreadable) {
          // An age read before the API failed would go on looking fresh: the probe drops them.
          for (const component of CONTROL_PLANE_COMPONENTS) cpM.controlPlaneLeaseAge.remove({ component });
          return failed('api-error', vary(random, 0.01));
        }
        let stale = false;
        for (const component of CONTROL_PLANE_COMPONENTS) {
          const renewed = f.leaseRenewedAt?.[component];
          const age = renewed === undefined ? random() * renewedEvery : at - renewed;
          cpM.controlPlaneLeaseAge.set({ component }, age);
          stale ||= age > MAX_LEASE_AGE;
        }
        return stale ? failed('lease-stale', vary(random, 0.01)) : ok(vary(random, 0.01));
      }),
      spec('dns', (_, f) => {
        if (!reachesControlPlane(f, node)) return failed('timeout', 2);
        dnsM.dnsLookupDuration.observe(vary(random, 0.003));
        return ok(vary(random, 0.004));
      }),
      {
        name: PEER_MESH_PROBE,
        interval: 10,
        reasons: [],
        run(at) {
          const f = view.faults(at);
          const peers = view.nodes
            .filter((n) => n.name !== node)
            .flatMap((n) => {
              const a = view.agentAt(n.name, at);
              return a ? [{ peer: n.name, running: a.running }] : [];
            });
          // Peers that left discovery: their series go.
          for (const peer of [...known]) {
            if (peers.some((p) => p.peer === peer)) continue;
            known.delete(peer);
            peerM.peerClockOffset.remove({ peer_node: peer });
            for (const network of ['pod', 'host']) {
              peerM.peerUp.remove({ peer_node: peer, network });
              const kind = peerFailures.get(`${peer}/${network}`);
              if (kind) peerM.peerFailure.remove({ peer_node: peer, network, kind });
              peerFailures.delete(`${peer}/${network}`);
            }
          }
          let slowest = 0.004;
          for (const { peer, running } of peers) {
            known.add(peer);
            let answered = false;
            for (const network of ['pod', 'host'] as const) {
              const r = ping(f, node, peer, network, running);
              const key = `${peer}/${network}`;
              const before = peerFailures.get(key);
              const kind = r === 'ok' ? undefined : r;
              if (before && before !== kind) peerM.peerFailure.remove({ peer_node: peer, network, kind: before });
              if (kind) {
                peerM.peerFailure.set({ peer_node: peer, network, kind }, 1);
                peerFailures.set(key, kind);
              } else peerFailures.delete(key);
              peerM.peerUp.set({ peer_node: peer, network }, r === 'ok' ? 1 : 0);
              if (r === 'ok') {
                answered = true;
                peerM.peerRtt.observe({ network }, vary(random, network === 'pod' ? 0.0011 : 0.0007));
              }
              if (r === 'timeout') slowest = 2;
            }
            // Peer clock minus ours, measured from an answered ping.
            if (answered) peerM.peerClockOffset.set({ peer_node: peer }, (f.clockOffset?.[peer] ?? 0) - (f.clockOffset?.[node] ?? 0) + vary(random, 0.0004, 1));
            else peerM.peerClockOffset.remove({ peer_node: peer });
          }
          peerM.peersKnown.set(peers.length);
          peerM.peersProbed.set(peers.length);
          return ok(slowest);
        },
      },
    ];
  };
}

/**
 * The etcd-probe agent of a control-plane node (deploy/components/etcd): the etcd probe only,
 * against the node's own member, which etcd names after the node (kubeadm).
 */
export function etcdAgentProbes(view: ClusterView, node: string) {
  return (x: Exposition, random: () => number): SimProbe[] => {
    const m = x.adopt(factories.etcdMetrics);
    const extra = m as Partial<Record<string, Family>>;
    // Metrics being added to the etcd probe: exported here whether or not src/ has them yet.
    const hasLeaderOf =
      extra.etcdEndpointHasLeader ?? x.family({ name: 'vigil_etcd_endpoint_has_leader', help: 'Whether the etcd member knows a raft leader (absent while it does not answer).', type: 'gauge', labelNames: ['member'], buckets: [] });
    const failures =
      extra.etcdRequestFailures ??
      x.family({
        name: 'vigil_etcd_request_failures_total',
        help: "The probe's requests to each etcd member that failed, by kind: unreachable, timeout, tls, auth, error.",
        type: 'counter',
        labelNames: ['member', 'operation', 'kind'],
        buckets: [],
      });
    const member = node;
    const d = definition('etcd');
    return [
      {
        name: 'etcd',
        interval: d.defaultInterval / 1000,
        reasons: d.reasons,
        run(at) {
          const e = view.faults(at).etcd ?? {};
          if (e.down?.includes(member)) {
            m.etcdEndpointUp.set({ member }, 0);
            m.etcdEndpointIsLeader.set({ member }, 0);
            m.etcdHasLeader.set(0);
            hasLeaderOf.remove({ member });
            m.etcdDbSize.remove({ member });
            for (const alarm of ETCD_ALARMS) m.etcdAlarm.remove({ member, alarm });
            return failed('unreachable', ETCD_REQUEST_TIMEOUT);
          }
          const leaderless = e.noLeader?.includes(member) ?? false;
          m.etcdEndpointUp.set({ member }, 1);
          m.etcdEndpointIsLeader.set({ member }, !leaderless && member === ETCD_LEADER ? 1 : 0);
          m.etcdHasLeader.set(leaderless ? 0 : 1);
          hasLeaderOf.set({ member }, leaderless ? 0 : 1);
          m.etcdDbSize.set({ member }, 24_117_248);
          for (const alarm of ETCD_ALARMS) m.etcdAlarm.set({ member, alarm }, 0);
          for (const operation of ['put', 'get']) for (const kind of MEMBER_FAILURE_KINDS) failures.inc({ member, operation, kind }, 0);
          // A member that knows no leader is not asked to write or read.
          if (leaderless) return failed('no-leader', vary(random, 0.005));
          m.etcdRequestDuration.observe({ member, operation: 'get' }, vary(random, 0.002));
          if (e.putHangs?.includes(member)) {
            // A request that hit its deadline is observed as the time it waited, and counted.
            m.etcdRequestDuration.observe({ member, operation: 'put' }, ETCD_REQUEST_TIMEOUT);
            failures.inc({ member, operation: 'put', kind: 'timeout' });
            return failed('write-failed', ETCD_REQUEST_TIMEOUT + 0.01);
          }
          const put = e.putSeconds?.[member] ?? vary(random, 0.006);
          m.etcdRequestDuration.observe({ member, operation: 'put' }, put);
          return put > 0.1 ? failed('slow-write', put + 0.005) : ok(put + 0.005);
        },
      },
    ];
  };
}
