import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterNode, ClusterStatus, ReachabilityEdge } from '../../status/cluster-types.ts';
import { formatAgo, formatSeconds, groupOf, matrixNodes, nodeNames, orderNodes, probeColumns, probeRows, reachabilityGrid, timelineRows } from './model.js';

const probe = (name: string, verdict: 'ok' | 'warning' | 'critical' | 'unknown', message = `${name} ${verdict}`) => ({
  name,
  verdict,
  reason: verdict === 'ok' ? null : 'error',
  message,
  since: '2026-01-01T00:00:00.000Z',
  lastRun: '2026-01-01T00:01:00.000Z',
  durationSeconds: 0.01,
  skipped: false,
  observations: null,
});
const node = (name: string, probes: ReturnType<typeof probe>[], answered = true): ClusterNode => ({
  name,
  verdict: answered ? 'ok' : 'unreachable',
  answered,
  error: answered ? null : 'timeout after 2000 ms',
  probes: answered ? probes : [],
  unreachableFrom: { pod: [], host: [] },
});
const edge = (observer: string, peer: string, up: boolean, network: 'pod' | 'host' = 'pod'): ReachabilityEdge => ({ observer, peer, network, up, rttSeconds: up ? 0.001 : null });

void describe('orderNodes', () => {
  void it('orders by name as people read numbers when there is no partition', () => {
    assert.deepEqual(orderNodes(['node-10', 'node-2', 'node-1', 'b', 'a'], []), ['a', 'b', 'node-1', 'node-2', 'node-10']);
  });

  void it('puts each partition group together, in the order given, so the matrix shows blocks', () => {
    assert.deepEqual(
      orderNodes(
        ['a', 'b', 'c', 'd', 'e'],
        [
          ['e', 'b'],
          ['d', 'a', 'c'],
        ],
      ),
      ['b', 'e', 'a', 'c', 'd'],
    );
    assert.deepEqual(
      orderNodes(
        ['a', 'b', 'c', 'd', 'e'],
        [
          ['d', 'a', 'c'],
          ['e', 'b'],
        ],
      ),
      ['a', 'c', 'd', 'b', 'e'],
    );
  });

  void it('puts nodes in no group last, by name', () => {
    assert.deepEqual(
      orderNodes(
        ['z', 'y', 'c', 'd', 'a', 'b'],
        [
          ['d', 'c'],
          ['b', 'a'],
        ],
      ),
      ['c', 'd', 'a', 'b', 'y', 'z'],
    );
  });

  void it('lists a node named in two groups once, in the first', () => {
    assert.deepEqual(
      orderNodes(
        ['a', 'b', 'c'],
        [
          ['a', 'b'],
          ['b', 'c'],
        ],
      ),
      ['a', 'b', 'c'],
    );
  });

  void it('keeps nodes that only the partitions name', () => {
    assert.deepEqual(orderNodes(['a'], [['b'], ['a']]), ['b', 'a']);
  });
});

void describe('groupOf', () => {
  void it('numbers groups in display order and gives -1 to nodes in none', () => {
    const partitions = [
      ['e', 'b'],
      ['d', 'a', 'c'],
    ];
    const order = orderNodes(['a', 'b', 'c', 'd', 'e', 'f'], partitions);
    assert.deepEqual(
      [...groupOf(order, partitions)],
      [
        ['b', 0],
        ['e', 0],
        ['a', 1],
        ['c', 1],
        ['d', 1],
        ['f', -1],
      ],
    );
  });
});

void describe('probeRows', () => {
  const status: Pick<ClusterStatus, 'nodes' | 'partitions'> = {
    nodes: [node('b', [probe('node', 'ok'), probe('etcd', 'critical', 'put p50 412 ms > 100 ms')]), node('a', [probe('node', 'warning'), probe('dns', 'ok')]), node('c', [], false)],
    partitions: [],
  };

  void it("merges every node's probes into one set of columns, in the order they first appear", () => {
    assert.deepEqual(probeColumns(status.nodes), ['node', 'etcd', 'dns']);
    const { columns, rows } = probeRows(status);
    assert.deepEqual(columns, ['node', 'dns', 'etcd']); // rows ordered a, b, c; a reports node and dns first
    assert.deepEqual(
      rows.map((r) => r.node),
      ['a', 'b', 'c'],
    );
  });

  void it('marks probes a node does not run as absent and keeps the message and since of the others', () => {
    const { rows } = probeRows(status);
    const a = rows[0]!;
    assert.deepEqual(
      a.cells.map((c) => c.verdict),
      ['warning', 'ok', 'absent'],
    );
    const etcd = rows[1]!.cells[2]!;
    assert.equal(etcd.verdict, 'critical');
    assert.equal(etcd.message, 'put p50 412 ms > 100 ms');
    assert.equal(etcd.since, '2026-01-01T00:00:00.000Z');
  });

  void it('above 1,000 nodes, reads a node that is ok and lists no probes as ok in every column, and one that is not as it says', () => {
    const big = { nodes: [node('a', [], true), { ...node('b', [probe('etcd', 'critical')]), verdict: 'critical' as const }, node('c', [], false)], partitions: [], probesShown: 'not-ok' as const };
    const { columns, rows } = probeRows(big);
    assert.deepEqual(columns, ['etcd']);
    assert.deepEqual(
      rows.map((r) => r.cells.map((c) => c.verdict)),
      [['ok'], ['critical'], ['unreachable']],
    );
    // listed in full, the same node without a probe is "absent"
    assert.equal(probeRows({ ...big, probesShown: 'all' }).rows[0]!.cells[0]!.verdict, 'absent');
  });

  void it('gives a node that did not answer a full row of unreachable cells saying why', () => {
    const c = probeRows(status).rows[2]!;
    assert.equal(c.verdict, 'unreachable');
    assert.deepEqual(
      c.cells.map((x) => x.verdict),
      ['unreachable', 'unreachable', 'unreachable'],
    );
    assert.equal(c.cells[0]!.message, 'no answer: timeout after 2000 ms');
  });

  void it('follows the order it is given', () => {
    assert.deepEqual(
      probeRows(status, ['c', 'b', 'a', 'x']).rows.map((r) => r.node),
      ['c', 'b', 'a'],
    );
  });
});

void describe('reachabilityGrid', () => {
  const status = {
    nodes: [node('a', []), node('b', []), node('c', [], false)],
    reachability: [edge('a', 'b', true), edge('a', 'c', false), edge('b', 'a', true), edge('b', 'c', false), edge('a', 'b', false, 'host')],
  };

  void it('names every node that appears as an observer, a peer or in the fan-out', () => {
    assert.deepEqual(nodeNames({ nodes: [node('a', [])], reachability: [edge('b', 'c', true)] }).sort(), ['a', 'b', 'c']);
  });

  void it('fills observer × peer for one network, with self on the diagonal and unknown for a silent observer', () => {
    const grid = reachabilityGrid(status, 'pod', ['a', 'b', 'c']);
    assert.deepEqual(
      grid.map((r) => [r.observer, r.answered, r.cells.map((c) => c.state)]),
      [
        ['a', true, ['self', 'up', 'down']],
        ['b', true, ['up', 'self', 'down']],
        ['c', false, ['unknown', 'unknown', 'self']],
      ],
    );
    assert.equal(grid[0]!.cells[1]!.rttSeconds, 0.001);
  });

  void it('keeps the networks apart', () => {
    const grid = reachabilityGrid(status, 'host', ['a', 'b']);
    assert.deepEqual(
      grid.map((r) => r.cells.map((c) => c.state)),
      [
        ['self', 'down'],
        ['unknown', 'self'],
      ],
    );
  });
});

void describe('matrixNodes', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const status = { nodes: names.map((n) => node(n, [], n !== 'f')), reachability: [edge('a', 'b', true), edge('c', 'd', false, 'host'), edge('b', 'c', true)] };

  void it('shows every node up to the limit', () => {
    assert.deepEqual(matrixNodes(status, names, 6), { nodes: names, troubled: null });
  });

  void it('beyond it, shows only the ends of broken paths on either network and the silent nodes, in display order', () => {
    assert.deepEqual(matrixNodes(status, ['f', 'e', 'd', 'c', 'b', 'a'], 5), { nodes: ['f', 'd', 'c'], troubled: 3 });
    assert.deepEqual(matrixNodes(status, names, 2), { nodes: ['c', 'd'], troubled: 3 });
  });

  void it('shows nothing when nothing is broken', () => {
    const healthy = { nodes: names.map((n) => node(n, [])), reachability: [edge('a', 'b', true)] };
    assert.deepEqual(matrixNodes(healthy, names, 3), { nodes: [], troubled: 0 });
  });
});

void describe('timelineRows', () => {
  void it('sorts newest first, ties by node then probe, and names the node of a local page', () => {
    const ev = (id: number, time: string, probeName: string, n?: string) => ({ id, time, probe: probeName, from: 'ok', to: 'critical', reason: 'error', message: '', ...(n ? { node: n } : {}) });
    const rows = timelineRows([ev(1, '2026-01-01T00:00:00Z', 'etcd', 'b'), ev(2, '2026-01-01T00:05:00Z', 'node', 'a'), ev(3, '2026-01-01T00:00:00Z', 'dns', 'a'), ev(4, '2026-01-01T00:00:00Z', 'node')], 'here');
    assert.deepEqual(
      rows.map((r) => `${r.node}/${r.probe}`),
      ['a/node', 'a/dns', 'b/etcd', 'here/node'],
    );
  });
});

void describe('formatting', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  void it('says how long ago in at most two units', () => {
    assert.equal(formatAgo('2026-01-02T00:00:00Z', now), 'just now');
    assert.equal(formatAgo('2026-01-01T23:59:15Z', now), '45s ago');
    assert.equal(formatAgo('2026-01-01T23:46:48Z', now), '13m 12s ago');
    assert.equal(formatAgo('2025-12-30T20:00:00Z', now), '2d 4h ago');
    assert.equal(formatAgo('2026-01-02T00:10:00Z', now), 'in the future (clock skew)');
    assert.equal(formatAgo(null, now), '');
    assert.equal(formatAgo('garbage', now), '');
  });
  void it('gives durations in a readable unit', () => {
    assert.equal(formatSeconds(0.00042), '0.4 ms');
    assert.equal(formatSeconds(0.0123), '12 ms');
    assert.equal(formatSeconds(1.2), '1.20 s');
    assert.equal(formatSeconds(-0.003), '-3.0 ms');
    assert.equal(formatSeconds(null), '');
  });
});
