import type { Cause } from '../diagnosis.ts';
import type { StatusVerdict } from '../verdict.ts';
import type { LocalStatusReport, ProbeStatus } from './local.ts';

/**
 * The shapes of the cluster status API (GET /api/v1/status), shared by the fan-out, the CLI
 * and the status page.
 */

export type Network = 'pod' | 'host';

/** Why a ping or a fan-out request got nothing: refused (the host answered, no agent listens), timeout or unreachable (the path is broken), http (an error status), bad (an unusable answer). */
export type FailureKind = 'refused' | 'timeout' | 'unreachable' | 'http' | 'bad';

/** One agent's view of one peer over one network, as it reports in its local status. */
export interface PeerObservation {
  peer: string;
  network: Network;
  up: boolean;
  rttSeconds: number | null;
  /** Peer clock minus ours, in seconds; null when unknown. */
  clockOffsetSeconds: number | null;
  /** When the last ping finished (RFC 3339). */
  lastChecked: string;
  /** When the peer entered its current up or down state on this network, as this agent saw it (RFC 3339). */
  since?: string;
  /** Since when the peer's clock has been off by more than the threshold, as this agent saw it (RFC 3339); null while it is not. */
  clockOffSince?: string | null;
  error: string | null;
  /** The kind of failure when down. */
  failure?: FailureKind | null;
}

/** The local status an agent serves to its peers: its probes plus what it sees of the mesh. */
export interface LocalStatusWithPeers extends LocalStatusReport {
  peers: PeerObservation[];
}

export type ClusterVerdict = 'healthy' | 'degraded' | 'unknown';

export type { Cause, CauseKind } from '../diagnosis.ts';

/**
 * A probe as the cluster status lists it: without its figures and run time unless asked for
 * (`?detail=probes`), and above 100 nodes an ok probe without its reason and message.
 */
export type ClusterProbe = Pick<ProbeStatus, 'name' | 'verdict' | 'since' | 'lastRun' | 'skipped'> & Partial<Pick<ProbeStatus, 'reason' | 'message' | 'durationSeconds' | 'observations'>>;

export interface ClusterNode {
  name: string;
  /** The node's own verdict, or unreachable when its agent did not answer the fan-out. */
  verdict: StatusVerdict | 'unreachable';
  /** Whether the asking agent got this node's local status. */
  answered: boolean;
  /** Why the fan-out got nothing ("timeout after 2000 ms", "HTTP 401"), when it got nothing. */
  error: string | null;
  /** The node's probes as it reported them; empty when it did not answer. */
  probes: ClusterProbe[];
  /** Observers that report this node down, per network. */
  unreachableFrom: Record<Network, string[]>;
  /** Set when the node was not asked because the answering agent's own pings find it down: since when. */
  downSince?: string;
  /** The relay this node's status (or the failure to get it) came through; absent when asked directly. */
  via?: string;
}

/** How complete and how fresh a cluster status is: a partial answer says so. */
export interface Completeness {
  /** Every node known, the answering agent included. */
  nodes: number;
  /** Nodes whose local status is in the answer. */
  answered: number;
  unanswered: number;
  /** Age of the oldest local status in the answer, in seconds, at the answer's time. */
  oldestAnswerSeconds: number | null;
  /** Whether the peers were asked from the answering agent (`direct`) or through relays, one per group of nodes. */
  gathered: 'direct' | 'relays';
  relays?: {
    groups: number;
    /** Relays that answered (a group whose first relay was replaced counts each that answered). */
    answered: number;
    /** Groups whose first relay failed or was slow and was replaced by the next. */
    replaced: number;
    /** Nodes asked directly because no relay answered for them. */
    askedDirectly: number;
    /** Entries relays sent for nodes they were not asked about, dropped. */
    foreignDropped: number;
  };
}

export interface ReachabilityEdge {
  observer: string;
  peer: string;
  network: Network;
  up: boolean;
  rttSeconds: number | null;
}

export interface ClusterStatus {
  /** The node whose agent answered this request. */
  observer: string;
  time: string;
  verdict: ClusterVerdict;
  completeness: Completeness;
  causes: Cause[];
  nodes: ClusterNode[];
  /** Whether every node lists its probes (`all`), or above 1,000 nodes only the nodes whose verdict is not ok do (`not-ok`) unless `?detail=probes` asks for all. */
  probesShown: 'all' | 'not-ok';
  /**
   * The edges of the reachability graph: every edge (`all`), only those that are down (`down`, above
   * 100 nodes), or none (`none`, above 1,000 nodes: each node's `unreachableFrom` names who cannot
   * reach it), unless `?detail=reachability` asks for all.
   */
  reachability: ReachabilityEdge[];
  reachabilityShown: 'all' | 'down' | 'none';
  /** Groups of nodes that reach each other and not the rest; empty when there is no partition. */
  partitions: string[][];
}
