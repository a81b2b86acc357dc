import type { ClusterNode, ClusterStatus, Network } from '../../status/cluster-types.ts';
import type { HistoryEvent } from '../../history/store.ts';

export type CellVerdict = ClusterNode['verdict'] | 'absent';

export interface ProbeCell {
  probe: string;
  verdict: CellVerdict;
  message: string;
  since: string | null;
  lastRun: string | null;
  reason: string | null;
}

export interface ProbeRow {
  node: string;
  verdict: ClusterNode['verdict'];
  answered: boolean;
  error: string | null;
  cells: ProbeCell[];
}

export interface ReachCell {
  peer: string;
  state: 'self' | 'up' | 'down' | 'unknown';
  rttSeconds: number | null;
}

export interface ReachRow {
  observer: string;
  answered: boolean;
  cells: ReachCell[];
}

export type TimelineEvent = HistoryEvent & { node?: string };

export function compareNames(a: string, b: string): number;
export function orderNodes(names: readonly string[], partitions: readonly (readonly string[])[] | undefined): string[];
export function groupOf(order: readonly string[], partitions: readonly (readonly string[])[] | undefined): Map<string, number>;
export function nodeNames(status: Pick<ClusterStatus, 'nodes' | 'reachability'>): string[];
export function probeColumns(nodes: readonly Pick<ClusterNode, 'probes'>[]): string[];
export function probeRows(status: Pick<ClusterStatus, 'nodes' | 'partitions'>, order?: readonly string[]): { columns: string[]; rows: ProbeRow[] };
export function reachabilityGrid(status: Pick<ClusterStatus, 'nodes' | 'reachability'>, network: Network, order: readonly string[]): ReachRow[];
export function timelineRows(events: readonly TimelineEvent[], fallbackNode?: string): (TimelineEvent & { node: string })[];
export function formatAgo(iso: string | null | undefined, nowMs: number): string;
export function formatSeconds(seconds: number | null | undefined): string;
export function matrixNodes(status: Pick<ClusterStatus, 'nodes' | 'reachability'>, order: readonly string[], max: number): { nodes: string[]; troubled: number | null };
