import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus, LocalStatusWithPeers } from '../src/status/cluster-types.ts';
import { removeDir, startPeerAgent, startAll, waitFor, type PeerAgent } from './support/peer-agents.ts';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { createTopology, runStatus, type Topology } from './support/netns.ts';
import { relayIntoNamespace } from './support/netns-relay.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const NAMES = ['a', 'b', 'c', 'd', 'e'];
const PORT = 10924;
const API_PORT = 6443;
const NAMESPACE = 'vigil';

void describe('peer mesh across simulated hosts (network namespaces)', () => {
  let topo: Topology | undefined;
  let sim: ApiSim | undefined;
  let relay: { close(): Promise<void> } | undefined;
  const agents = new Map<string, PeerAgent>();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-netns-'));
  const ipOf = (n: string, net: 'pod' | 'host') => topo!.hosts.find((h) => h.name === n)![net === 'pod' ? 'podIP' : 'hostIP'];
  const url = (n: string) => `http://${ipOf(n, 'pod')}:${PORT}`;
  const json = async <T>(asker: string, p: string): Promise<T> => {
    const r = await topo!.get(asker, `${url(asker)}${p}`);
    if (r.status !== 200) throw new Error(`${asker} ${p}: HTTP ${r.status}`);
    return JSON.parse(r.body) as T;
  };
  const cluster = (asker: string) => json<ClusterStatus>(asker, '/api/v1/status');

  const startAgent = async (n: string) => {
    const h = topo!.hosts.find((x) => x.name === n)!;
    return startPeerAgent({
      name: n,
      url: url(n),
      netns: h.ns,
      dir: path.join(dir, n),
      config: {
        node: { podIP: h.podIP, hostIP: h.hostIP },
        web: { listenAddress: `0.0.0.0:${PORT}` },
        probes: { node: { enabled: false } },
        kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: NAMESPACE },
        peers: {
          discovery: ['kubernetes'],
          hostPort: PORT,
          // most of an interval: on a busy machine a healthy answer can take a few hundred ms
          interval: '1s',
          timeout: '800ms',
          fanout: { timeout: '900ms' },
        },
      },
    });
  };

  const healthy = () =>
    waitFor(
      'a healthy cluster',
      async () => {
        const s = await cluster('a');
        const all = s.reachability.length === NAMES.length * (NAMES.length - 1) * 2 && s.reachability.every((e) => e.up);
        return s.verdict === 'healthy' && all ? s : undefined;
      },
      30_000,
    );

  before(async () => {
    topo = await createTopology(NAMES);
    // the API simulator runs here and is reached from every host at the fabric's address
    sim = await ApiSim.start({ nodes: NAMES });
    relay = await relayIntoNamespace({ ns: topo.fabric, host: topo.fabricIP, port: API_PORT, target: { host: '127.0.0.1', port: Number(new URL(sim.url).port) }, dir });
    writeKubeconfig(path.join(dir, 'kubeconfig'), { server: `http://${topo.fabricIP}:${API_PORT}`, token: sim.token, namespace: NAMESPACE });
    // the DaemonSet's pods, with the addresses the simulated hosts really have
    for (const h of topo.hosts) {
      sim.store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `vigil-${h.name}`, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': 'vigil' } },
        spec: { nodeName: h.name, containers: [{ name: 'vigil', image: 'vigil' }] },
      });
    }
    await waitFor('the pods to run', () => Promise.resolve(sim!.store.list('pods').every((p) => p.status?.phase === 'Running') ? true : undefined));
    for (const h of topo.hosts) sim.store.update('pods', NAMESPACE, `vigil-${h.name}`, (p) => (p.status = { ...p.status, podIP: h.podIP, hostIP: h.hostIP }));
    for (const n of NAMES) mkdirSync(path.join(dir, n));
    for (const a of await startAll(NAMES.map((n) => () => startAgent(n)))) agents.set(a.name, a);
  });

  after(async () => {
    await Promise.all([...agents.values()].map((a) => a.kill()));
    await relay?.close();
    await sim?.stop();
    await topo?.destroy();
    removeDir(dir);
  });

  void it('every host sees every other over both networks', async () => {
    const s = await healthy();
    assert.ok(s.reachability.every((e) => e.up));
    const local = await json<LocalStatusWithPeers>('c', '/api/v1/status/local');
    assert.deepEqual(new Set(local.peers.map((p) => p.network)), new Set(['pod', 'host']));
  });

  void it('(a) pod traffic dropped between two hosts is the overlay broken between exactly those two', async () => {
    await topo!.drop('a', 'b', ['pod']);
    await topo!.drop('b', 'a', ['pod']);
    try {
      const s = await waitFor(
        'overlay broken between a and b, seen both ways',
        async () => {
          const st = await cluster('c');
          return st.reachability.filter((e) => !e.up).length === 2 ? st : undefined;
        },
        20_000,
      );
      assert.equal(s.verdict, 'degraded');
      assert.deepEqual(
        s.causes.map((c) => [c.kind, c.nodes]),
        [['overlay-broken', ['a', 'b']]],
      );
      const edges = s.reachability.filter((e) => !e.up);
      assert.deepEqual(edges.map((e) => `${e.observer}>${e.peer}/${e.network}`).sort(), ['a>b/pod', 'b>a/pod']);
      // asked of one of the two, the fan-out falls back to the host path and still reaches the other
      // (a's own answer, waited for: c's says nothing of when a's fan-out gets every answer)
      let lastFromA: ClusterStatus | undefined;
      const fromA = await waitFor(
        'a to hear from every node and name the broken overlay',
        async () => {
          lastFromA = await cluster('a');
          return lastFromA.nodes.every((n) => n.answered) && JSON.stringify(lastFromA.causes.map((c) => c.kind)) === '["overlay-broken"]' ? lastFromA : undefined;
        },
        30_000,
      ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify({ unanswered: lastFromA?.nodes.filter((n) => !n.answered), causes: lastFromA?.causes.map((c) => c.kind) })}`));
      assert.ok(
        fromA.nodes.every((n) => n.answered),
        JSON.stringify(fromA.nodes.filter((n) => !n.answered)),
      );
      assert.deepEqual(
        fromA.causes.map((c) => c.kind),
        ['overlay-broken'],
      );
    } finally {
      await topo!.heal();
    }
    await healthy();
  });

  void it('(b) {a,b} cut off from {c,d,e}: either side shows the partition and names the other', async () => {
    const left = ['a', 'b'];
    const right = ['c', 'd', 'e'];
    for (const l of left)
      for (const r of right) {
        await topo!.drop(l, r, ['pod', 'host']);
        await topo!.drop(r, l, ['pod', 'host']);
      }
    try {
      const fromLeft = await waitFor(
        'the partition seen from b',
        async () => {
          const st = await cluster('b');
          // settled: while the drops are being put in place an answer may catch half of them
          return JSON.stringify(st.partitions) === JSON.stringify([left, right]) ? st : undefined;
        },
        20_000,
      );
      assert.deepEqual(fromLeft.partitions, [left, right]);
      assert.equal(fromLeft.verdict, 'degraded');
      const p = fromLeft.causes.find((c) => c.kind === 'partition')!;
      assert.match(p.message, /a, b .*cannot reach c, d, e/);
      const fromRight = await waitFor(
        'the partition seen from d',
        async () => {
          const st = await cluster('d');
          return JSON.stringify(st.partitions) === JSON.stringify([right, left]) ? st : undefined;
        },
        20_000,
      );
      assert.deepEqual(fromRight.partitions, [right, left]);
      // the CLI below asks e, not d: wait until e's own answer shows the partition too
      await waitFor(
        'the partition seen from e',
        async () => {
          const st = await cluster('e');
          return JSON.stringify(st.partitions) === JSON.stringify([right, left]) ? st : undefined;
        },
        20_000,
      );
      const ns = topo!.hosts.find((h) => h.name === 'e')!.ns;
      const r = await runStatus('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'status', '--url', url('e')], 30_000);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /partition: \{c, d, e\} \| \{a, b\}/);
    } finally {
      await topo!.heal();
    }
    await healthy();
  });

  void it('(c) with the API server down, a surviving agent still answers the cluster status', async () => {
    await sim!.suspend();
    const api = await topo!.get('d', `http://${topo!.fabricIP}:${API_PORT}/version`).catch(() => ({ status: 0 }));
    assert.equal(api.status, 0, 'the API server is down for the hosts');
    // an answer in which every agent was heard and every path seen up (a busy machine can make a
    // fan-out request or a ping miss its deadline)
    let last: ClusterStatus | undefined;
    const s = await waitFor(
      'every agent answering, every path up, during the outage',
      async () => {
        last = await cluster('d');
        return last.nodes.every((n) => n.answered) && last.verdict === 'healthy' && last.reachability.every((e) => e.up) ? last : undefined;
      },
      30_000,
    ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last?.causes)}`));
    assert.equal(s.verdict, 'healthy', JSON.stringify(s.causes));
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.answered]),
      NAMES.map((n) => [n, true]),
    );
    assert.ok(s.reachability.every((e) => e.up));
  });

  void it('(d) an agent restarted during the outage probes its cached peers', async () => {
    await agents.get('c')!.kill('SIGKILL');
    const restarted = await startAgent('c');
    agents.set('c', restarted);
    const local = await waitFor(
      'c to ping its cached peers',
      async () => {
        const st = await json<LocalStatusWithPeers>('c', '/api/v1/status/local');
        return st.peers.filter((p) => p.up).length === (NAMES.length - 1) * 2 ? st : undefined;
      },
      20_000,
    );
    assert.deepEqual(
      [...new Set(local.peers.map((p) => p.peer))],
      NAMES.filter((n) => n !== 'c'),
    );
    const metrics = (await topo!.get('c', `${url('c')}/metrics`)).body;
    assert.match(metrics, /^vigil_peers_known 4$/m);
    assert.match(restarted.output(), /starting from the cached peer list/);
    // the failed list is logged by the discovery, not by the pings waited for above
    await waitFor('the failed discovery to be logged', () => Promise.resolve(/Kubernetes peer discovery failed|cannot list the agents' pods/.test(restarted.output()) ? true : undefined), 30_000).catch((err: Error) =>
      assert.fail(`${err.message}:\n${restarted.output().slice(-3000)}`),
    );
    assert.match(restarted.output(), /Kubernetes peer discovery failed|cannot list the agents' pods/);
    // c's own pings up say nothing of its peers' pings of c, which saw it down while it restarted
    let last: ClusterStatus | undefined;
    const s = await waitFor(
      'a healthy cluster seen from the restarted c',
      async () => {
        last = await cluster('c');
        return last.verdict === 'healthy' ? last : undefined;
      },
      30_000,
    ).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last?.causes)}`));
    assert.equal(s.verdict, 'healthy', JSON.stringify(s.causes));
  });
});
