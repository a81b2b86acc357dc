// @ts-check
// The status page: fetches the cluster status, the local status and the cluster history from the
// agent that served it, and draws them. Everything from the API goes into the DOM as text, never
// as markup. URLs are relative so the page also works behind a path prefix (kubectl proxy).
import { api, ApiError, newAuth, setToken } from './api.js';
import { $, el, keepingFocus } from './dom.js';
import { formatAgo, formatSeconds, groupOf, matrixNodes, nodeNames, orderNodes, probeRows, reachabilityGrid, timelineRows } from './model.js';

/** @import { ClusterStatus, ClusterVerdict, Network } from '../../status/cluster-types.ts' */
/** @import { ClusterHistoryPage, LocalHistoryPage } from '../../history/api-types.ts' */
/** @import { Auth, LocalStatus } from './api.js' */
/** @import { CellVerdict, ProbeCell, ProbeRow, ReachCell } from './model.js' */

const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(1000, Number(params.get('refresh') ?? 10) * 1000 || 10000);
const TIMELINE_LIMIT = 50;
const MATRIX_MAX = 60;

/** @type {Record<CellVerdict, string>} */
const VERDICT_TEXT = { ok: 'ok', warning: 'warning', critical: 'critical', unknown: 'unknown', unreachable: 'unreachable', absent: 'not run' };
/** @type {Record<ReachCell['state'], string>} */
const REACH_TEXT = { up: 'up', down: 'down', unknown: '?', self: '·' };
/** @type {Record<ReachCell['state'], string>} */
const REACH_TITLE = { up: 'reachable', down: 'unreachable', unknown: 'no report', self: 'itself' };
/** @type {Record<ClusterVerdict, string>} */
const CLUSTER_TEXT = { healthy: 'Cluster healthy', degraded: 'Cluster degraded', unknown: 'Cluster state unknown' };
/** @type {readonly Network[]} */
const NETWORKS = ['pod', 'host'];

/**
 * What survives a refresh: the open cell, the timeline filters, the <details> the user opened
 * (by key); and the last answers.
 * @type {{ selected: string | null; node: string; probe: string; open: Set<string>; cluster: ClusterStatus | null; local: LocalStatus | null }}
 */
const state = { selected: null, node: params.get('node') ?? '', probe: params.get('probe') ?? '', open: new Set(), cluster: null, local: null };

/** @param {string | null} iso */
const sinceText = (iso) => (iso ? `since ${new Date(iso).toLocaleTimeString()} (${formatAgo(iso, Date.now())})` : 'since unknown');
/** @param {string | null} iso */
const when = (iso) => (iso ? `${formatAgo(iso, Date.now())} (${iso})` : 'never');
/** @param {unknown} err */
const errorText = (err) => (err instanceof Error ? err.message : String(err));

/**
 * A <details> that stays open across refreshes once the user opened it, and closed once closed.
 * @param {string} key
 * @param {HTMLElement} summary
 * @param {...HTMLElement} content
 */
function details(key, summary, ...content) {
  const d = el('details', { 'data-details': key, open: state.open.has(key) }, el('summary', { 'data-key': `details/${key}` }, summary), ...content);
  d.addEventListener('toggle', () => {
    if (d.open) state.open.add(key);
    else state.open.delete(key);
  });
  return d;
}

/**
 * @param {ClusterStatus | null} cluster
 * @param {string | null} error
 */
function renderVerdict(cluster, error) {
  const box = $('verdict');
  box.replaceChildren();
  if (!cluster) {
    box.className = 'verdict v-unknown';
    box.append(el('h2', { text: 'Cluster status unavailable' }), el('p', { class: 'error', text: error ?? 'loading…' }));
    return;
  }
  box.className = `verdict v-${cluster.verdict}`;
  box.dataset.verdict = cluster.verdict;
  const answered = cluster.nodes.filter((n) => n.answered).length;
  // an agent of an earlier version sends no completeness
  const c = cluster.completeness;
  const through = c?.relays ? ` through ${c.relays.answered} relays` : '';
  const age = typeof c?.oldestAnswerSeconds === 'number' ? ` · the oldest answer ${c.oldestAnswerSeconds.toFixed(1)} s old` : '';
  const partial = answered < cluster.nodes.length ? ' (partial)' : '';
  box.append(el('h2', { text: CLUSTER_TEXT[cluster.verdict] }), el('p', { class: 'meta', text: `as seen from ${cluster.observer} at ${cluster.time} · ${answered} of ${cluster.nodes.length} nodes answered${through}${partial}${age}` }));
  if (cluster.causes.length === 0) {
    box.append(el('p', { class: 'no-causes', text: cluster.verdict === 'healthy' ? 'No problems found.' : 'No cause named.' }));
    return;
  }
  box.append(
    el(
      'ul',
      { class: 'causes' },
      ...cluster.causes.map((c) =>
        el(
          'li',
          { class: `cause sev-${c.severity}`, 'data-kind': c.kind },
          el('span', { class: 'sev', text: c.severity }),
          ' ',
          el('span', { class: 'msg', text: c.message }),
          el('span', { class: 'since', title: c.since ?? '', text: ` — ${sinceText(c.since)}` }),
          c.sides && c.sides.length ? el('span', { class: 'sides', text: ` — sides: ${c.sides.map((s) => `{${s.join(', ')}}`).join(' vs ')}` }) : null,
        ),
      ),
    ),
  );
}

/**
 * A probe cell's stable name: its selection, and its button's focus, across refreshes.
 * @param {ProbeRow} row
 * @param {ProbeCell} cell
 */
const cellKey = (row, cell) => JSON.stringify(['probe', row.node, cell.probe]);

/** @param {string} key */
function select(key) {
  state.selected = state.selected === key ? null : key;
  keepingFocus(renderProbes);
}

function renderProbes() {
  const box = $('probe-matrix');
  const detail = $('probe-detail');
  const cluster = state.cluster;
  box.replaceChildren();
  detail.replaceChildren();
  if (!cluster) return;
  const order = orderNodes(nodeNames(cluster), cluster.partitions);
  const { columns, rows } = probeRows(cluster, order);
  const head = el('tr', null, el('th', { scope: 'col', text: 'node' }), el('th', { scope: 'col', class: 'overall', text: 'overall' }), ...columns.map((c) => el('th', { scope: 'col', text: c })));
  const body = rows.map((r) =>
    el(
      'tr',
      { 'data-node': r.node },
      el('th', { scope: 'row', class: 'node', text: r.node }),
      el('td', { class: `cell overall v-${r.verdict}`, title: r.error ? `${r.node}: ${r.verdict} (${r.error})` : `${r.node}: ${r.verdict}`, text: VERDICT_TEXT[r.verdict] }),
      ...r.cells.map((c) => {
        const key = cellKey(r, c);
        const title = `${r.node} / ${c.probe}: ${VERDICT_TEXT[c.verdict]} — ${c.message}${c.since ? ` (since ${c.since})` : ''}`;
        const on = state.selected === key;
        return el(
          'td',
          { class: `cell v-${c.verdict}${on ? ' selected' : ''}`, 'data-probe': c.probe },
          el('button', { type: 'button', title, 'aria-pressed': on ? 'true' : 'false', 'data-key': key, onclick: () => select(key), text: VERDICT_TEXT[c.verdict] }),
        );
      }),
    ),
  );
  box.append(el('table', { class: 'matrix probes' }, el('thead', null, head), el('tbody', null, ...body)));
  const chosen = state.selected === null ? undefined : rows.flatMap((row) => row.cells.filter((cell) => cellKey(row, cell) === state.selected).map((cell) => ({ row, cell })))[0];
  if (chosen) {
    const { row, cell } = chosen;
    detail.append(
      el('h3', null, `${row.node} / ${cell.probe}: `, el('span', { class: `badge v-${cell.verdict}`, text: VERDICT_TEXT[cell.verdict] })),
      el('p', { class: 'message', text: cell.message }),
      el('dl', null, el('dt', { text: 'since' }), el('dd', { text: when(cell.since) }), el('dt', { text: 'last run' }), el('dd', { text: when(cell.lastRun) }), el('dt', { text: 'reason' }), el('dd', { text: cell.reason ?? '—' })),
    );
  }
}

function renderReachability() {
  const cluster = state.cluster;
  const all = cluster ? orderNodes(nodeNames(cluster), cluster.partitions) : [];
  const { nodes: order, troubled } = cluster ? matrixNodes(cluster, all, MATRIX_MAX) : { nodes: [], troubled: null };
  const note = $('reach-note');
  note.textContent =
    troubled === null
      ? ''
      : troubled === 0
        ? `All ${all.length} nodes reach every peer they test; the matrices are left out above ${MATRIX_MAX} nodes.`
        : `Showing ${order.length === troubled ? 'the' : `${order.length} of the`} ${troubled} nodes on a broken path or not answering, of ${all.length}; every other path tested is up.`;
  for (const network of NETWORKS) {
    const box = $(`reach-${network}`);
    box.replaceChildren();
    if (!cluster) continue;
    if (!cluster.reachability.some((e) => e.network === network)) {
      box.append(el('h3', { text: `${network} network` }), el('p', { class: 'empty', text: network === 'host' ? 'Not probed: no agent reports the host path (peers.hostPort is not set).' : 'No agent reports any peer on this network.' }));
      continue;
    }
    if (order.length === 0) continue;
    const groups = groupOf(order, cluster.partitions);
    const grid = reachabilityGrid(cluster, network, order);
    // A thick rule where a new partition group starts makes the blocks visible at a glance.
    /** @param {number} i */
    const starts = (i) => i > 0 && groups.get(order[i] ?? '') !== groups.get(order[i - 1] ?? '');
    const head = el('tr', null, el('th', { class: 'corner', text: 'observer ↓ peer →' }), ...order.map((n, i) => el('th', { scope: 'col', class: starts(i) ? 'group-start' : null, 'data-group': groups.get(n), text: n })));
    const body = grid.map((row, i) =>
      el(
        'tr',
        { class: starts(i) ? 'group-start' : null, 'data-observer': row.observer },
        el('th', { scope: 'row', class: row.answered ? null : 'silent', 'data-group': groups.get(row.observer), title: row.answered ? null : `${row.observer} did not answer`, text: row.observer }),
        ...row.cells.map((c, j) =>
          el('td', {
            class: `cell r-${c.state}${starts(j) ? ' group-start' : ''}`,
            'data-peer': c.peer,
            title: `${row.observer} → ${c.peer} (${network}): ${REACH_TITLE[c.state]}${c.rttSeconds !== null ? `, rtt ${formatSeconds(c.rttSeconds)}` : ''}`,
            text: c.state === 'up' && c.rttSeconds !== null ? formatSeconds(c.rttSeconds) : REACH_TEXT[c.state],
          }),
        ),
      ),
    );
    box.append(el('h3', { text: `${network} network` }), el('table', { class: 'matrix reach', 'data-network': network }, el('thead', null, head), el('tbody', null, ...body)));
  }
  const legend = $('reach-legend');
  legend.replaceChildren();
  if (cluster) {
    legend.append(
      'Each row is what one node sees of the others. ',
      el('span', { class: 'badge r-up', text: '12 ms' }),
      ' reached, round trip · ',
      el('span', { class: 'badge r-down', text: 'down' }),
      ' not reached · ',
      el('span', { class: 'badge r-unknown', text: '?' }),
      ' no report (that node did not answer)',
      cluster.partitions.length ? ' · heavy rules separate the sides of the partition' : '',
    );
  }
}

/**
 * @param {HTMLSelectElement} sel
 * @param {readonly string[]} values
 * @param {string} current
 * @param {string} allText
 */
function fillSelect(sel, values, current, allText) {
  sel.replaceChildren(el('option', { value: '', text: allText }), ...values.map((v) => el('option', { value: v, text: v })));
  // Keep a filter on a node that has gone from the status: the user chose it.
  if (current && !values.includes(current)) sel.append(el('option', { value: current, text: current }));
  sel.value = current;
}

function renderFilters() {
  const cluster = state.cluster;
  const nodes = cluster ? orderNodes(nodeNames(cluster), []) : state.local ? [state.local.node] : [];
  const probes = cluster ? probeRows(cluster).columns : state.local ? state.local.probes.map((p) => p.name) : [];
  fillSelect($('filter-node', HTMLSelectElement), nodes, state.node, 'all nodes');
  fillSelect($('filter-probe', HTMLSelectElement), probes, state.probe, 'all probes');
}

/** @typedef {{ page: ClusterHistoryPage | LocalHistoryPage; fallback: string | null }} Timeline */

/**
 * @param {Auth} auth
 * @returns {Promise<Timeline>}
 */
async function loadTimeline(auth) {
  const q = new URLSearchParams({ limit: String(TIMELINE_LIMIT) });
  if (state.probe) q.set('probe', state.probe);
  const localQ = new URLSearchParams(q);
  if (state.node) q.set('node', state.node);
  try {
    return { page: await api.history(q, auth), fallback: null };
  } catch (err) {
    // An agent without the cluster history still has its own.
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    return { page: await api.localHistory(localQ, auth), fallback: state.local?.node ?? document.body.dataset.node ?? null };
  }
}

/**
 * @param {Timeline | null} result
 * @param {string | null} error
 */
function renderTimeline(result, error) {
  const box = $('timeline-body');
  box.replaceChildren();
  const errors = result && 'errors' in result.page ? result.page.errors : [];
  const missing = errors.map((e) => `${e.node} (${e.error})`);
  $('timeline-error').textContent = error ?? (missing.length ? `Without the history of ${missing.join(', ')}.` : '');
  if (!result) return;
  const rows = timelineRows(result.page.events, result.fallback ?? undefined).filter((e) => !state.node || e.node === state.node);
  if (rows.length === 0) {
    box.append(el('tr', null, el('td', { colspan: 5, class: 'empty', text: 'No verdict changes recorded.' })));
    return;
  }
  box.append(
    ...rows.map((e) =>
      el(
        'tr',
        null,
        el('td', { class: 'time', title: e.time, text: `${new Date(e.time).toLocaleString()} · ${formatAgo(e.time, Date.now())}` }),
        el('td', { text: e.node }),
        el('td', { text: e.probe }),
        el('td', null, el('span', { class: `badge v-${e.from}`, text: e.from }), ' → ', el('span', { class: `badge v-${e.to}`, text: e.to })),
        el('td', { class: 'message', text: e.message }),
      ),
    ),
  );
}

/**
 * @param {LocalStatus | null} local
 * @param {string | null} error
 */
function renderLocal(local, error) {
  const box = $('local');
  box.replaceChildren(el('h2', null, 'This node: ', local ? el('span', { class: 'node', text: local.node }) : '?', ' ', local ? el('span', { class: `badge v-${local.verdict}`, text: local.verdict }) : null));
  if (!local) {
    box.append(el('p', { class: 'error', text: error ?? 'loading…' }));
    return;
  }
  box.append(
    el(
      'table',
      { class: 'list' },
      el('thead', null, el('tr', null, ...['probe', 'verdict', 'message', 'since', 'last run', 'took', 'observations'].map((h) => el('th', { scope: 'col', text: h })))),
      el(
        'tbody',
        null,
        ...local.probes.map((p) =>
          el(
            'tr',
            null,
            el('td', { text: p.name }),
            el('td', null, el('span', { class: `badge v-${p.verdict}`, text: p.verdict })),
            el('td', { class: 'message', text: p.message }),
            el('td', { title: p.since ?? '', text: formatAgo(p.since, Date.now()) }),
            el('td', { title: p.lastRun ?? '', text: formatAgo(p.lastRun, Date.now()) }),
            el('td', { text: formatSeconds(p.durationSeconds) }),
            el('td', {
              class: 'obs',
              text: p.observations
                ? Object.entries(p.observations)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(' · ')
                : '',
            }),
          ),
        ),
      ),
    ),
  );
  const peers = local.peers ?? [];
  if (peers.length > 0) {
    const down = peers.filter((p) => !p.up).length;
    box.append(
      details(
        'local-peers',
        el('h3', { text: `Peers as this node sees them: ${peers.length} links, ${down} down` }),
        el(
          'table',
          { class: 'list peers' },
          el('thead', null, el('tr', null, ...['peer', 'network', 'state', 'rtt', 'clock offset', 'last checked', 'error'].map((h) => el('th', { scope: 'col', text: h })))),
          el(
            'tbody',
            null,
            ...peers.map((p) =>
              el(
                'tr',
                null,
                el('td', { text: p.peer }),
                el('td', { text: p.network }),
                el('td', null, el('span', { class: `badge r-${p.up ? 'up' : 'down'}`, text: p.up ? 'up' : 'down' })),
                el('td', { text: formatSeconds(p.rttSeconds) }),
                el('td', { text: formatSeconds(p.clockOffsetSeconds) }),
                el('td', { title: p.lastChecked, text: formatAgo(p.lastChecked, Date.now()) }),
                el('td', { class: 'message', text: p.error ?? '' }),
              ),
            ),
          ),
        ),
      ),
    );
  }
}

/**
 * The prompt for the token shows exactly while the agent refuses this tab's requests for want of
 * it; its hint blames the token only when a request that carried one was refused.
 * @param {Auth} auth
 */
function renderAuth(auth) {
  $('auth').hidden = !auth.refused;
  $('auth-hint').textContent = auth.tokenRefused ? 'The token given was refused.' : '';
}

// Each refresh has a number; only the newest one draws. The timer's refresh waits its turn while
// one is in flight, but a token just given or a filter just chosen starts one at once, and the
// older one's answers (asked without that token or filter) are dropped when they arrive.
let latest = 0;
let inFlight = 0;

/** @param {{ now?: boolean }} [opts] `now`: start even while another refresh is in flight */
async function refresh({ now = false } = {}) {
  if (inFlight > 0 && !now) return;
  const mine = ++latest;
  const current = () => {
    if (mine === latest) return true;
    // counted so that a reader can tell a dropped answer from one still on its way
    document.body.dataset.superseded = String(Number(document.body.dataset.superseded ?? 0) + 1);
    return false;
  };
  inFlight++;
  try {
    const auth = newAuth();
    const [cluster, local] = await Promise.allSettled([api.status(auth), api.localStatus(auth)]);
    if (!current()) return;
    // Render time is measured (not fetch time): bench/status-page.ts reads it for large clusters.
    const renderStart = performance.now();
    state.cluster = cluster.status === 'fulfilled' ? cluster.value : null;
    state.local = local.status === 'fulfilled' ? local.value : null;
    keepingFocus(() => {
      renderVerdict(state.cluster, cluster.status === 'rejected' ? errorText(cluster.reason) : null);
      renderProbes();
      renderReachability();
      renderLocal(state.local, local.status === 'rejected' ? errorText(local.reason) : null);
      renderFilters();
      renderAuth(auth);
    });
    performance.measure('vigil-render', { start: renderStart });
    /** @type {[Timeline | null, string | null]} */
    const [timeline, error] = await loadTimeline(auth).then(
      (t) => [t, null],
      (err) => [null, `timeline unavailable: ${errorText(err)}`],
    );
    if (!current()) return;
    renderTimeline(timeline, error);
    renderAuth(auth);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
  } finally {
    inFlight--;
  }
}

$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('auth-token', HTMLInputElement);
  setToken(input.value.trim());
  input.value = '';
  void refresh({ now: true });
});
const filterNode = $('filter-node', HTMLSelectElement);
filterNode.addEventListener('change', () => {
  state.node = filterNode.value;
  void refresh({ now: true });
});
const filterProbe = $('filter-probe', HTMLSelectElement);
filterProbe.addEventListener('change', () => {
  state.probe = filterProbe.value;
  void refresh({ now: true });
});
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
