import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignAll, assignPeers } from './assign.ts';

const names = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function observers(assignment: Map<string, string[]>): Map<string, number> {
  const count = new Map<string, number>([...assignment.keys()].map((n) => [n, 0]));
  for (const targets of assignment.values()) for (const t of targets) count.set(t, count.get(t)! + 1);
  return count;
}

void describe('assignPeers', () => {
  void it('pings every other node when there are no more than k of them', () => {
    assert.deepEqual(assignPeers('b', ['a', 'b', 'c'], 10), ['a', 'c']);
    assert.deepEqual(assignPeers('a', names(11).concat('a'), 11).length, 11);
    assert.deepEqual(assignPeers('solo', ['solo'], 10), []);
  });

  void it('over 200 nodes, each pings exactly k peers, never itself, and each is watched by at least k-2', () => {
    const nodes = names(200);
    const k = 10;
    const a = assignAll(nodes, k);
    for (const [n, targets] of a) {
      assert.equal(targets.length, k, `${n} pings ${targets.length}`);
      assert.ok(!targets.includes(n), `${n} pings itself`);
      assert.equal(new Set(targets).size, k);
    }
    const counts = [...observers(a).values()];
    assert.ok(Math.min(...counts) >= k - 2, `a node has only ${Math.min(...counts)} observers`);
    assert.ok(Math.max(...counts) <= k + 2, `a node has ${Math.max(...counts)} observers`);
  });

  void it('is the same on every agent whatever order the names arrive in', () => {
    const nodes = names(50);
    const shuffled = [...nodes].reverse();
    for (const n of nodes.slice(0, 5)) assert.deepEqual(assignPeers(n, nodes, 5), assignPeers(n, shuffled, 5));
  });

  void it('barely moves when a node joins or leaves', () => {
    const nodes = names(200);
    const k = 10;
    const before = assignAll(nodes, k);
    const edges = (m: Map<string, string[]>) => new Set([...m].flatMap(([o, ts]) => ts.map((t) => `${o}>${t}`)));
    const e0 = edges(before);
    const joined = edges(assignAll([...nodes, 'newcomer'], k));
    const changedJoin = [...e0].filter((e) => !joined.has(e)).length;
    // one edge per ring moves to the newcomer (plus a rare knock-on from de-duplication)
    assert.ok(changedJoin <= 2 * k, `${changedJoin} of ${e0.size} edges moved when one node joined`);
    const left = edges(
      assignAll(
        nodes.filter((n) => n !== 'node-7'),
        k,
      ),
    );
    const lost = [...e0].filter((e) => !left.has(e) && !e.includes('node-7')).length;
    assert.ok(lost <= 2 * k, `${lost} edges between surviving nodes moved when one node left`);
  });
});
