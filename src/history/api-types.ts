/**
 * The shapes of the history API (GET /api/v1/history/local and /api/v1/history), shared by the
 * store, the routes, the CLI and the status page; types only, so the page can check against them.
 */

/** One verdict change in the timeline, as the store keeps it and the API serves it. */
export interface HistoryEvent {
  id: number;
  time: string;
  probe: string;
  from: string;
  to: string;
  reason: string | null;
  message: string;
}

/** An event of the cluster history: whose timeline it comes from. */
export interface NodeEvent extends HistoryEvent {
  node: string;
}

/** GET /api/v1/history/local: this agent's events, newest first. */
export interface LocalHistoryPage {
  node: string;
  events: HistoryEvent[];
  /** The cursor for the next page; null when there is none. */
  next: string | null;
}

/** GET /api/v1/history: every answering agent's events, merged, and the agents that did not answer. */
export interface ClusterHistoryPage {
  events: NodeEvent[];
  next: string | null;
  errors: { node: string; error: string }[];
}
