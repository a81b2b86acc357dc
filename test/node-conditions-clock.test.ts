// VigilClock with real agents: alpha runs with its clock 2 s ahead (libfaketime, from Debian's
// faketime), every agent has kubernetes.nodeConditions on against the API simulator. alpha's Node
// gets VigilClock=True with a Warning event; no other Node is ever given VigilClock=True.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { settle, startConditionCluster, type ConditionCluster } from './support/condition-cluster.ts';
import { startAll, startPeerAgent } from './support/peer-agents.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const NAMES = ['alpha', 'bravo', 'charlie'];
let c: ConditionCluster;

before(async () => {
  c = await startConditionCluster(NAMES, 'vigil-clock-cond-');
});
after(() => c.stop());

const clockOf = (node: string) => c.condition(node, 'VigilClock');

test('the skewed node gets VigilClock=True and a Warning event; no other node is ever given VigilClock=True', { timeout: 120_000 }, async () => {
  const addr = new Map([...(await c.addresses())].map(([n, [a]]) => [n, a!]));
  const staticPeers = NAMES.map((n) => ({ node: n, pod: addr.get(n)! }));

  const wrong: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const n of ['bravo', 'charlie']) if (clockOf(n)?.status === 'True') wrong.push(`${n}: ${clockOf(n)!.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

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
            peers: { discovery: ['static'], static: staticPeers, interval: '1s', timeout: '800ms', clockOffsetThreshold: '500ms' },
          },
          env: n === 'alpha' ? { FAKETIME: '+2s', FAKETIME_DONT_FAKE_MONOTONIC: '1', LD_PRELOAD: LIBFAKETIME } : {},
        }),
    ),
  );
  await settle(() => clockOf('alpha')?.status === 'True');
  const cond = clockOf('alpha');
  assert.equal(cond?.status, 'True', `alpha not given VigilClock=True: ${JSON.stringify(cond)}\n${c.agents[0]!.output().slice(-3000)}`);
  assert.equal(cond.reason, 'ClockOffset');
  const m = /^the clock of alpha is (\d+\.\d{3}) s ahead of 2 of 2 peers, which agree with each other \(threshold 0\.5 s\)$/.exec(cond.message);
  // the least offset round trips shorter than the 0.8 s ping timeout allow: not above the skew, less than 0.8 s below it
  assert.ok(m && Number(m[1]) <= 2.05 && Number(m[1]) > 1.2, cond.message);
  // keep watching a few more rounds: the healthy nodes, each seeing one skewed and one good peer, have no consensus to name themselves with
  await new Promise((r) => setTimeout(r, 5000));
  sampling = false;
  await sampler;
  assert.deepEqual(wrong, [], 'a healthy node was given VigilClock=True');
  // the event is sent after the patch that wrote the condition, by a later request
  await settle(() => c.events().includes('alpha Warning ClockOffset'));
  assert.deepEqual(c.events(), ['alpha Warning ClockOffset']);
  assert.equal(clockOf('alpha')!.status, 'True', 'and it stays');
});
