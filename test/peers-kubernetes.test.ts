import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/load.ts';
import { HistoryStore } from '../src/history/store.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { createKubeClients } from '../src/k8s/client.ts';
import { Writable } from 'node:stream';
import { createLogger, silentLogger, type Logger } from '../src/log.ts';
import { PeerDirectory } from '../src/peers/directory.ts';
import { KubernetesDiscovery } from '../src/peers/kubernetes.ts';
import { systemClock } from '../src/clock.ts';
import { removeDir, waitFor } from './support/peer-agents.ts';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';

const NS = 'vigil';
const DEFAULT_SELECTOR = loadConfig({ probes: builtinProbes }).peers.kubernetes.labelSelector;

void describe('Kubernetes peer discovery against the API simulator', () => {
  let sim: ApiSim;
  let store: HistoryStore;
  let discovery: KubernetesDiscovery | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-peers-'));
  const kubeconfig = path.join(dir, 'kubeconfig');

  const addPod = (node: string, ip: string, labels: Record<string, string> = { 'app.kubernetes.io/name': 'vigil' }, name = `vigil-${node}`) =>
    sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels }, spec: { nodeName: node, containers: [{ name: 'vigil', image: 'vigil' }] } }) &&
    waitFor(`pod ${name} running`, () => Promise.resolve(sim.store.get('pods', NS, name)?.status?.phase === 'Running' ? true : undefined)).then(() =>
      sim.store.update('pods', NS, name, (p) => (p.status = { ...p.status, podIP: ip, hostIP: ip.replace('198.19.', '198.18.') })),
    );

  const start = async (self: string, logger: Logger = silentLogger()) => {
    const directory = new PeerDirectory({ self, store, now: Date.now, logger: silentLogger(), sources: ['kubernetes'] });
    discovery = await KubernetesDiscovery.create({ clients: await createKubeClients({ kubeconfig, namespace: NS }), labelSelector: DEFAULT_SELECTOR, directory, clock: systemClock, logger, retryMs: 200 });
    discovery.start();
    return directory;
  };

  before(async () => {
    sim = await ApiSim.start({ nodes: ['n1', 'n2', 'n3', 'n4'] });
    writeKubeconfig(kubeconfig, { server: sim.url, token: sim.token, namespace: NS });
    store = new HistoryStore(path.join(dir, 'history.db'));
    await addPod('n1', '198.19.0.1');
    await addPod('n2', '198.19.0.2');
    await addPod('n3', '198.19.0.3');
  });
  after(async () => {
    discovery?.stop();
    await sim.stop();
    store.close();
    removeDir(dir);
  });

  void it("lists the DaemonSet's pods, follows changes, and keeps the list through an outage", async () => {
    const warnings: string[] = [];
    const d = await start('n1', createLogger('warn', new Writable({ write: (chunk: Buffer, _enc, done) => (warnings.push(chunk.toString()), done()) })));
    await waitFor('two peers', () => Promise.resolve(d.list().length === 2 ? true : undefined));
    assert.deepEqual(d.list(), [
      { node: 'n2', podIP: '198.19.0.2', hostIP: '198.18.0.2' },
      { node: 'n3', podIP: '198.19.0.3', hostIP: '198.18.0.3' },
    ]);
    await addPod('n4', '198.19.0.4');
    sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: NS, labels: { app: 'other' } }, spec: { nodeName: 'n4', containers: [{ name: 'x', image: 'x' }] } });
    // a probe's own pod, even one labelled like the agents, is not a peer
    await addPod('n4', '198.19.0.44', { 'app.kubernetes.io/name': 'vigil', 'vigil.io/probe': 'pod-scheduling' }, 'vigil-probe-n4');
    await waitFor('n4 to join', () => Promise.resolve(d.get('n4')?.podIP === '198.19.0.4' ? true : undefined));
    sim.store.remove('pods', NS, 'vigil-n3');
    await waitFor('n3 to leave', () => Promise.resolve(d.get('n3') === undefined ? true : undefined));
    assert.equal(d.get('n4')?.podIP, '198.19.0.4', 'events arrive in order: the probe pod was seen before n3 left');
    assert.deepEqual(
      d.list().map((p) => p.node),
      ['n2', 'n4'],
    );

    await sim.suspend();
    await waitFor('the discovery to notice the outage', () => Promise.resolve(warnings.some((w) => w.includes('keeping the last known peers')) ? true : undefined));
    assert.deepEqual(
      d.list().map((p) => p.node),
      ['n2', 'n4'],
      'the outage empties nothing',
    );
    discovery!.stop();

    // a new agent (a restart) while the API server is still down starts from the persisted list
    const again = await start('n2');
    assert.deepEqual(
      again.list().map((p) => p.node),
      ['n1', 'n4'],
    );
    await sim.resume();
    sim.store.remove('pods', NS, 'vigil-n4');
    await waitFor('the watch to resume and n4 to leave', () => Promise.resolve(again.list().length === 1 ? true : undefined));
    assert.deepEqual(
      again.list().map((p) => p.node),
      ['n1'],
    );
  });
});

void describe('Kubernetes peer discovery over watches the server ends', () => {
  // A cluster whose other pods keep changing: the watch cache's history moves on while the agents'
  // own pods stay as they are. Time runs about 300 times faster: watches the server ends on its own
  // after 1 to 2 s stand for its 30 to 60 minutes, the agent's own 1 to 2 s for its 5 to 10, a
  // bookmark every 200 ms for about one a minute, the last 300 ms before the deadline; a history
  // of 3 s for the churn of a large cluster pushing old versions out.
  let sim: ApiSim;
  let store: HistoryStore;
  let discovery: KubernetesDiscovery | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-watch-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  let churn: NodeJS.Timeout | undefined;

  before(async () => {
    sim = await ApiSim.start({ nodes: ['n1', 'n2'], minRequestTimeoutMs: 1000, watchHistoryMs: 3000, bookmarkIntervalMs: 200, bookmarkBeforeDeadlineMs: 300 });
    writeKubeconfig(kubeconfig, { server: sim.url, token: sim.token, namespace: NS });
    store = new HistoryStore(path.join(dir, 'history.db'));
    for (const [node, ip] of [
      ['n1', '198.19.0.1'],
      ['n2', '198.19.0.2'],
    ] as const) {
      sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `vigil-${node}`, namespace: NS, labels: { 'app.kubernetes.io/name': 'vigil' } }, spec: { nodeName: node, containers: [{ name: 'vigil', image: 'vigil' }] } });
      await waitFor(`vigil-${node} running`, () => Promise.resolve(sim.store.get('pods', NS, `vigil-${node}`)?.status?.phase === 'Running' ? true : undefined));
      sim.store.update('pods', NS, `vigil-${node}`, (p) => (p.status = { ...p.status, podIP: ip }));
    }
    let n = 0;
    churn = setInterval(() => {
      sim.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `job-${n}`, namespace: 'default', labels: { app: 'job' } }, spec: { containers: [{ name: 'x', image: 'x' }] } });
      if (n > 0) sim.store.remove('pods', 'default', `job-${n - 1}`);
      n++;
    }, 100);
  });
  after(async () => {
    clearInterval(churn);
    discovery?.stop();
    await sim.stop();
    store.close();
    removeDir(dir);
  });

  void it('asks for bookmarks and ends its own watches: each next watch starts where the cache is, and the pods are listed once', async () => {
    const directory = new PeerDirectory({ self: 'n1', store, now: Date.now, logger: silentLogger(), sources: ['kubernetes'] });
    sim.requests.length = 0;
    discovery = await KubernetesDiscovery.create({
      clients: await createKubeClients({ kubeconfig, namespace: NS }),
      labelSelector: DEFAULT_SELECTOR,
      directory,
      clock: systemClock,
      logger: silentLogger(),
      retryMs: 200,
      watchTimeoutSeconds: [1, 2],
    });
    discovery.start();
    await waitFor('the peer', () => Promise.resolve(directory.get('n2') ? true : undefined));
    const ours = () => sim.requests.filter((q) => q.namespace === NS && q.resource === 'pods');
    await waitFor('five watches, each ended and opened again', () => Promise.resolve(ours().filter((q) => q.verb === 'watch').length >= 5 ? true : undefined), 30_000);
    const watches = ours().filter((q) => q.verb === 'watch');
    assert.ok(
      watches.every((q) => /[?&]allowWatchBookmarks=true(&|$)/.test(q.query) && /[?&]timeoutSeconds=[12](&|$)/.test(q.query)),
      `every watch asks for bookmarks and a timeout: ${watches.map((q) => q.query).join(' ')}`,
    );
    assert.equal(
      ours().filter((q) => q.verb === 'list').length,
      1,
      `no re-list: ${ours()
        .map((q) => `${q.verb} ${q.code}`)
        .join(', ')}`,
    );
    assert.deepEqual(
      directory.list().map((p) => p.node),
      ['n2'],
    );
  });
});
