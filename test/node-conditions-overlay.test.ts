// VigilOverlayNetwork with real agents: from alpha, the pod addresses of its peers do not answer
// (nothing listens on them) while their host addresses do; alpha's Node gets
// VigilOverlayNetwork=True and a Warning event, its peers' Nodes False, with no event.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { settle, startConditionCluster, type ConditionCluster } from './support/condition-cluster.ts';
import { startAll, startPeerAgent } from './support/peer-agents.ts';

const NAMES = ['alpha', 'bravo', 'charlie'];
let c: ConditionCluster;

before(async () => {
  c = await startConditionCluster(NAMES, 'vigil-overlay-cond-');
});
after(() => c.stop());

const overlayOf = (node: string) => c.condition(node, 'VigilOverlayNetwork');

test('a node whose pod path reaches none of its peers while their host path answers gets VigilOverlayNetwork=True; the others False', { timeout: 120_000 }, async () => {
  // per node: where its agent listens, and a port nothing listens on
  const ports = await c.addresses(2);
  const addr = new Map([...ports].map(([n, [a]]) => [n, a!]));
  const dead = new Map([...ports].map(([n, [, d]]) => [n, d!]));
  const peersFor = (self: string) => NAMES.map((n) => ({ node: n, pod: self === 'alpha' ? dead.get(n)! : addr.get(n)!, host: addr.get(n)! }));

  c.agents = await startAll(
    NAMES.map(
      (n) => () =>
        startPeerAgent({
          name: n,
          url: `http://${addr.get(n)}`,
          dir: mkdtempSync(path.join(c.dir, `${n}-`)),
          config: {
            web: { listenAddress: addr.get(n) },
            kubernetes: { kubeconfig: c.kubeconfig, namespace: 'vigil', nodeConditions: true },
            probes: { node: { enabled: false } },
            peers: { discovery: ['static'], static: peersFor(n), interval: '1s', timeout: '800ms' },
          },
        }),
    ),
  );
  const settled = () => overlayOf('alpha')?.status === 'True' && overlayOf('bravo')?.status === 'False' && overlayOf('charlie')?.status === 'False';
  await settle(settled);
  assert.ok(settled(), JSON.stringify(NAMES.map((n) => overlayOf(n))));
  assert.equal(overlayOf('alpha')!.reason, 'PodNetworkUnreachable');
  assert.equal(overlayOf('alpha')!.message, 'the pod network from alpha does not reach 2 of 2 peers whose host path answers (bravo, charlie)');
  assert.equal(overlayOf('bravo')!.message, 'the pod network from bravo reaches 2 of 2 peers whose host path answers');
  // the event follows the patch that wrote the transition
  await settle(() => c.events().length > 0, 10_000);
  assert.deepEqual(c.events(), ['alpha Warning PodNetworkUnreachable']);
});
