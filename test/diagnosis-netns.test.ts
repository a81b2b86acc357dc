// The API server as three real agents on simulated hosts (network namespaces) see it: one host's
// path to it cut is that host's path; the API server down (the simulator suspended) is the API
// server. Two different causes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { createTopology, type Topology } from './support/netns.ts';
import { relayIntoNamespace } from './support/netns-relay.ts';
import { removeDir, startAll, startPeerAgent, waitFor, type PeerAgent } from './support/peer-agents.ts';

const NAMES = ['a', 'b', 'c'];
const PORT = 10924;
const API_PORT = 6443;

void describe('API server causes across simulated hosts', { timeout: 180_000 }, () => {
  let topo: Topology | undefined;
  let sim: ApiSim | undefined;
  let relay: { close(): Promise<void> } | undefined;
  const agents: PeerAgent[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-diag-netns-'));
  const host = (n: string) => topo!.hosts.find((h) => h.name === n)!;
  const url = (n: string) => `http://${host(n).podIP}:${PORT}`;
  const cluster = async (asker: string) => {
    const r = await topo!.get(asker, `${url(asker)}/api/v1/status`);
    if (r.status !== 200) throw new Error(`${asker}: HTTP ${r.status}`);
    return JSON.parse(r.body) as ClusterStatus;
  };
  const apiCauses = (s: ClusterStatus) => s.causes.filter((c) => c.kind.startsWith('apiserver') || c.probes?.includes('apiserver'));
  const healthy = () =>
    waitFor(
      'every agent reaching the API server',
      async () => {
        const s = await cluster('a');
        return s.verdict === 'healthy' && s.nodes.every((n) => n.probes.some((p) => p.name === 'apiserver' && p.verdict === 'ok')) ? s : undefined;
      },
      40_000,
    );

  before(async () => {
    topo = await createTopology(NAMES);
    sim = await ApiSim.start({ nodes: NAMES });
    relay = await relayIntoNamespace({ ns: topo.fabric, host: topo.fabricIP, port: API_PORT, target: { host: '127.0.0.1', port: Number(new URL(sim.url).port) }, dir });
    writeKubeconfig(path.join(dir, 'kubeconfig'), { server: `http://${topo.fabricIP}:${API_PORT}`, token: sim.token, namespace: 'vigil' });
    const peers = NAMES.map((n) => ({ node: n, pod: `${host(n).podIP}:${PORT}`, host: `${host(n).hostIP}:${PORT}` }));
    const started = await startAll(
      NAMES.map((n) => () => {
        mkdirSync(path.join(dir, n));
        return startPeerAgent({
          name: n,
          url: url(n),
          netns: host(n).ns,
          dir: path.join(dir, n),
          config: {
            node: { podIP: host(n).podIP, hostIP: host(n).hostIP },
            web: { listenAddress: `0.0.0.0:${PORT}` },
            kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: 'vigil' },
            probes: { node: { enabled: false }, apiserver: { enabled: true, interval: '1s', timeout: '800ms' } },
            peers: { discovery: ['static'], static: peers, interval: '1s', timeout: '400ms', fanout: { timeout: '700ms' } },
          },
        });
      }),
    );
    agents.push(...started);
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.kill()));
    await relay?.close();
    await sim?.stop();
    await topo?.destroy();
    removeDir(dir);
  });

  void it("one host's path to the API server cut: that host named, not the API server", async () => {
    await healthy();
    // answers from the API server's address never arrive at c
    await topo!.exec('c', 'nft', ['add', 'rule', 'inet', 'vigiltest', 'input', 'ip', 'saddr', topo!.fabricIP, 'drop']);
    try {
      // "of 3" needs every agent's answer in a's fan-out, not just the first one naming c
      let last: ClusterStatus | undefined;
      const s = await waitFor(
        "c's path named in an answer from every agent",
        async () => {
          last = await cluster('a');
          return apiCauses(last).some((c) => c.kind === 'apiserver-path') && last.nodes.every((n) => n.answered) ? last : undefined;
        },
        30_000,
      ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify({ causes: last && apiCauses(last), unanswered: last?.nodes.filter((n) => !n.answered).map((n) => n.name) })}`));
      const causes = apiCauses(s);
      assert.deepEqual(
        causes.map((c) => [c.kind, c.nodes, c.seenBy]),
        [['apiserver-path', ['c'], { agents: ['c'], of: 3 }]],
        JSON.stringify(causes),
      );
      assert.match(causes[0]!.message, /^API server failing from c only \(1 of 3 agents; the others reach it\): the path from that node — c: /);
      assert.ok(causes[0]!.since, 'since when');
    } finally {
      await topo!.heal();
    }
    await healthy();
  });

  void it('the API server down: the API server named, seen by every agent', async () => {
    await sim!.suspend();
    try {
      // "every agent" needs every agent's answer: with one missing, the other two read as 2 of 2
      let last: ClusterStatus | undefined;
      const s = await waitFor(
        'the API server named in an answer from every agent',
        async () => {
          last = await cluster('b');
          return apiCauses(last).some((c) => c.kind === 'apiserver-down') && last.nodes.every((n) => n.answered) ? last : undefined;
        },
        30_000,
      ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify({ causes: last && apiCauses(last), unanswered: last?.nodes.filter((n) => !n.answered).map((n) => n.name) })}`));
      const causes = apiCauses(s);
      assert.deepEqual(
        causes.map((c) => [c.kind, c.nodes, c.seenBy]),
        [['apiserver-down', [], { agents: NAMES, of: 3 }]],
        JSON.stringify(causes),
      );
      assert.match(causes[0]!.message, /^API server failing from every agent \(3 of 3\): /);
    } finally {
      await sim!.resume();
    }
  });
});
