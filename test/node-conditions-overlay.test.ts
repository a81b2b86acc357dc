// VigilOverlayNetwork with real agents: from alpha, the pod addresses of its peers do not answer
// (nothing listens on them) while their host addresses do; alpha's Node gets
// VigilOverlayNetwork=True and a Warning event, its peers' Nodes False, with no event.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { freePort, loopbackAddresses, removeDir, startAll, startPeerAgent, type PeerAgent } from './support/peer-agents.ts';

const NAMES = ['alpha', 'bravo', 'charlie'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-overlay-cond-'));
let agents: PeerAgent[] = [];
let sim: ApiSim;

before(async () => {
  sim = await ApiSim.start({ nodes: NAMES });
});
after(async () => {
  await Promise.all(agents.map((a) => a.kill()));
  await sim.stop();
  removeDir(dir);
});

interface Cond { type: string; status: string; reason: string; message: string }
const overlayOf = (node: string) => ((sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as Cond[]).find((c) => c.type === 'VigilOverlayNetwork');

test('a node whose pod path reaches none of its peers while their host path answers gets VigilOverlayNetwork=True; the others False', { timeout: 120_000 }, async () => {
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const ips = new Map(loopbackAddresses(NAMES.length).map((ip, i) => [NAMES[i]!, ip]));
  const addr = new Map<string, string>();
  const dead = new Map<string, string>();
  for (const n of NAMES) {
    addr.set(n, `${ips.get(n)}:${await freePort(ips.get(n))}`);
    dead.set(n, `${ips.get(n)}:${await freePort(ips.get(n))}`); // a port nothing listens on
  }
  const peersFor = (self: string) => NAMES.map((n) => ({ node: n, pod: self === 'alpha' ? dead.get(n)! : addr.get(n)!, host: addr.get(n)! }));

  agents = await startAll(NAMES.map((n) => () =>
    startPeerAgent({
      name: n,
      url: `http://${addr.get(n)}`,
      dir: mkdtempSync(path.join(dir, `${n}-`)),
      config: {
        web: { listenAddress: addr.get(n) },
        kubernetes: { kubeconfig, namespace: 'vigil', nodeConditions: true },
        probes: { node: { enabled: false } },
        peers: { discovery: ['static'], static: peersFor(n), interval: '1s', timeout: '500ms' },
      },
    })));
  const settled = () => overlayOf('alpha')?.status === 'True' && overlayOf('bravo')?.status === 'False' && overlayOf('charlie')?.status === 'False';
  const deadline = Date.now() + 30_000;
  while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(settled(), JSON.stringify(NAMES.map((n) => overlayOf(n))));
  assert.equal(overlayOf('alpha')!.reason, 'PodNetworkUnreachable');
  assert.equal(overlayOf('alpha')!.message, 'the pod network from alpha does not reach 2 of 2 peers whose host path answers (bravo, charlie)');
  assert.equal(overlayOf('bravo')!.message, 'the pod network from bravo reaches 2 of 2 peers whose host path answers');
  // the event follows the patch that wrote the transition
  while (sim.store.list('events').length === 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
  const events = sim.store.list('events') as unknown as { type: string; reason: string; involvedObject: { name: string } }[];
  assert.deepEqual(events.map((e) => `${e.involvedObject.name} ${e.type} ${e.reason}`), ['alpha Warning PodNetworkUnreachable']);
});
