// @ts-check
// The status page's decisions, kept free of the DOM so they run (and are tested) in Node as well
// as in the browser. Types come from the API's own (checked by tsconfig.page.json).

/** @import { ClusterNode, ClusterStatus, Network } from '../../status/cluster-types.ts' */
/** @import { HistoryEvent } from '../../history/api-types.ts' */

/** @typedef {ClusterNode['verdict'] | 'absent'} CellVerdict */
/**
 * @typedef {object} ProbeCell
 * @property {string} probe
 * @property {CellVerdict} verdict
 * @property {string} message
 * @property {string | null} since
 * @property {string | null} lastRun
 * @property {string | null} reason
 */
/**
 * @typedef {object} ProbeRow
 * @property {string} node
 * @property {ClusterNode['verdict']} verdict
 * @property {boolean} answered
 * @property {string | null} error
 * @property {ProbeCell[]} cells
 */
/** @typedef {{ peer: string; state: 'self' | 'up' | 'down' | 'unknown'; rttSeconds: number | null }} ReachCell */
/** @typedef {{ observer: string; answered: boolean; cells: ReachCell[] }} ReachRow */
/** @typedef {HistoryEvent & { node?: string }} TimelineEvent */
/** @typedef {readonly (readonly string[])[] | undefined} Partitions */

/**
 * Node names compare as people read them: node-2 before node-10.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareNames(a, b) {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The order of the matrices' rows and columns: the partition groups in the order the status gives
 * them (the answering agent's side first), each group by name, then the nodes in no group by name.
 * With this order a partition shows up as blocks along the diagonal.
 * @param {readonly string[]} names
 * @param {Partitions} partitions
 * @returns {string[]}
 */
export function orderNodes(names, partitions) {
  const groups = (partitions ?? []).map((g) => [...new Set(g)].sort(compareNames));
  /** @type {Set<string>} */
  const seen = new Set();
  /** @type {string[]} */
  const out = [];
  for (const g of groups) {
    for (const n of g) {
      if (seen.has(n)) continue;
      seen.add(n);
      out.push(n);
    }
  }
  const rest = [...new Set(names)].filter((n) => !seen.has(n)).sort(compareNames);
  return [...out, ...rest];
}

/**
 * The partition group of each node (index into the ordered groups), -1 for nodes in none.
 * @param {readonly string[]} order
 * @param {Partitions} partitions
 * @returns {Map<string, number>}
 */
export function groupOf(order, partitions) {
  /** @type {Map<string, readonly string[]>} */
  const byNode = new Map();
  for (const g of partitions ?? []) for (const n of g) byNode.set(n, g);
  /** @type {Map<readonly string[], number>} */
  const index = new Map();
  /** @type {Map<string, number>} */
  const out = new Map();
  for (const n of order) {
    const g = byNode.get(n);
    if (!g) {
      out.set(n, -1);
      continue;
    }
    let i = index.get(g);
    if (i === undefined) index.set(g, (i = index.size));
    out.set(n, i);
  }
  return out;
}

/**
 * Every node the status mentions: the fan-out's nodes and both ends of every reachability edge.
 * @param {Pick<ClusterStatus, 'nodes' | 'reachability'>} status
 * @returns {string[]}
 */
export function nodeNames(status) {
  const names = new Set(status.nodes.map((n) => n.name));
  for (const e of status.reachability) {
    names.add(e.observer);
    names.add(e.peer);
  }
  return [...names];
}

/**
 * Probe columns: every probe any node reports, in the order they first appear.
 * @param {readonly Pick<ClusterNode, 'probes'>[]} nodes
 * @returns {string[]}
 */
export function probeColumns(nodes) {
  /** @type {string[]} */
  const cols = [];
  /** @type {Set<string>} */
  const seen = new Set();
  for (const n of nodes) {
    for (const p of n.probes) {
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      cols.push(p.name);
    }
  }
  return cols;
}

/**
 * The node × probe matrix. A node that did not answer keeps its row, every cell "unreachable";
 * a probe a node does not run is "absent".
 * Above 1,000 nodes (`probesShown: "not-ok"`) a node whose verdict is ok lists no probes: its cells
 * read ok, for its verdict says every probe it ran is.
 * @param {Pick<ClusterStatus, 'nodes' | 'partitions'> & Partial<Pick<ClusterStatus, 'probesShown'>>} status
 * @param {readonly string[]} [order]
 * @returns {{ columns: string[]; rows: ProbeRow[] }}
 */
export function probeRows(status, order) {
  const byName = new Map(status.nodes.map((n) => [n.name, n]));
  const nodes = (
    order ??
    orderNodes(
      status.nodes.map((n) => n.name),
      status.partitions,
    )
  ).flatMap((n) => byName.get(n) ?? []);
  const columns = probeColumns(nodes);
  const rows = nodes.map((node) => {
    const probes = new Map(node.probes.map((p) => [p.name, p]));
    /** @type {ProbeCell[]} */
    const cells = columns.map((probe) => {
      const p = probes.get(probe);
      if (!node.answered) return { probe, verdict: 'unreachable', message: node.error ? `no answer: ${node.error}` : 'no answer', since: null, lastRun: null, reason: null };
      if (!p && status.probesShown === 'not-ok' && node.verdict === 'ok')
        return { probe, verdict: 'ok', message: 'ok: the node is ok (its probes are listed only when it is not, above 1,000 nodes)', since: null, lastRun: null, reason: null };
      if (!p) return { probe, verdict: 'absent', message: 'not run on this node', since: null, lastRun: null, reason: null };
      return { probe, verdict: p.verdict, message: p.message ?? '', since: p.since, lastRun: p.lastRun, reason: p.reason ?? null };
    });
    return { node: node.name, verdict: node.verdict, answered: node.answered, error: node.error, cells };
  });
  return { columns, rows };
}

/**
 * The observer × peer matrix for one network. "self" on the diagonal; "unknown" where the
 * observer did not answer or reported nothing about that peer.
 * @param {Pick<ClusterStatus, 'nodes' | 'reachability'>} status
 * @param {Network} network
 * @param {readonly string[]} order
 * @returns {ReachRow[]}
 */
export function reachabilityGrid(status, network, order) {
  /** @type {Map<string, ClusterStatus['reachability'][number]>} */
  const edges = new Map();
  for (const e of status.reachability) if (e.network === network) edges.set(`${e.observer}\u0000${e.peer}`, e);
  const answered = new Map(status.nodes.map((n) => [n.name, n.answered]));
  return order.map((observer) => ({
    observer,
    answered: answered.get(observer) ?? false,
    cells: order.map(
      /** @returns {ReachCell} */ (peer) => {
        if (peer === observer) return { peer, state: 'self', rttSeconds: null };
        const e = edges.get(`${observer}\u0000${peer}`);
        if (!e) return { peer, state: 'unknown', rttSeconds: null };
        return { peer, state: e.up ? 'up' : 'down', rttSeconds: e.rttSeconds };
      },
    ),
  }));
}

/**
 * Newest first, ties by node then probe, so a refresh does not reshuffle equal times.
 * @param {readonly TimelineEvent[]} events
 * @param {string} [fallbackNode]
 * @returns {(TimelineEvent & { node: string })[]}
 */
export function timelineRows(events, fallbackNode) {
  return events.map((e) => ({ ...e, node: e.node ?? fallbackNode ?? '' })).sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || compareNames(a.node, b.node) || compareNames(a.probe, b.probe));
}

/**
 * "3m 12s ago", "just now", "2d 4h ago"; "" for no time.
 * @param {string | null | undefined} iso
 * @param {number} nowMs
 * @returns {string}
 */
export function formatAgo(iso, nowMs) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  let s = Math.round((nowMs - t) / 1000);
  if (s < 0) return 'in the future (clock skew)';
  if (s < 2) return 'just now';
  /** @type {string[]} */
  const parts = [];
  for (const [unit, size] of /** @type {const} */ ([
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ])) {
    if (s >= size || (parts.length === 0 && unit === 's')) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return `${parts.join(' ')} ago`;
}

/**
 * "0.4 ms", "12 ms", "1.20 s"; "" when unknown.
 * @param {number | null | undefined} seconds
 * @returns {string}
 */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const ms = seconds * 1000;
  if (Math.abs(ms) < 10) return `${ms.toFixed(1)} ms`;
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/**
 * The nodes the reachability matrices show. Up to `max` nodes, all of them; beyond that an N × N
 * grid is neither readable nor cheap to draw, so only the nodes on a broken path (either end) or
 * that did not answer, at most `max`, in display order.
 * @param {Pick<ClusterStatus, 'nodes' | 'reachability'>} status
 * @param {readonly string[]} order
 * @param {number} max
 * @returns {{ nodes: string[]; troubled: number | null }}
 */
export function matrixNodes(status, order, max) {
  if (order.length <= max) return { nodes: [...order], troubled: null };
  /** @type {Set<string>} */
  const trouble = new Set();
  for (const e of status.reachability) {
    if (e.up) continue;
    trouble.add(e.observer);
    trouble.add(e.peer);
  }
  for (const n of status.nodes) if (!n.answered) trouble.add(n.name);
  const all = order.filter((n) => trouble.has(n));
  return { nodes: all.slice(0, max), troubled: all.length };
}
