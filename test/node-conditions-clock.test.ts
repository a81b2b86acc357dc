// VigilClock with real agents: alpha runs with its clock 2 s ahead (libfaketime, from Debian's
// faketime), every agent has kubernetes.nodeConditions on against the API simulator. alpha's Node
// gets VigilClock=True with a Warning event; no other Node is ever given VigilClock=True.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiSim, writeKubeconfig } from './support/apisim/index.ts';
import { freePort, loopbackAddresses, removeDir, startAll, startPeerAgent, type PeerAgent } from './support/peer-agents.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const NAMES = ['alpha', 'bravo', 'charlie'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-clock-cond-'));
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
const clockOf = (node: string) => ((sim.store.get('nodes', undefined, node)!.status!.conditions ?? []) as Cond[]).find((c) => c.type === 'VigilClock');

test('the skewed node gets VigilClock=True and a Warning event; no other node is ever given VigilClock=True', { timeout: 120_000 }, async () => {
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token });
  const ips = new Map(loopbackAddresses(NAMES.length).map((ip, i) => [NAMES[i]!, ip]));
  const addr = new Map<string, string>();
  for (const n of NAMES) addr.set(n, `${ips.get(n)}:${await freePort(ips.get(n))}`);
  const staticPeers = NAMES.map((n) => ({ node: n, pod: addr.get(n)! }));

  const wrong: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const n of ['bravo', 'charlie']) if (clockOf(n)?.status === 'True') wrong.push(`${n}: ${clockOf(n)!.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  agents = await startAll(NAMES.map((n) => () =>
    startPeerAgent({
      name: n,
      url: `http://${addr.get(n)}`,
      dir: mkdtempSync(path.join(dir, `${n}-`)),
      config: {
        web: { listenAddress: addr.get(n) },
        kubernetes: { kubeconfig, namespace: 'vigil', nodeConditions: true },
        probes: { node: { enabled: false } },
        peers: { discovery: ['static'], static: staticPeers, interval: '1s', timeout: '500ms', clockOffsetThreshold: '500ms' },
      },
      env: n === 'alpha' ? { FAKETIME: '+2s', FAKETIME_DONT_FAKE_MONOTONIC: '1', LD_PRELOAD: LIBFAKETIME } : {},
    })));
  const deadline = Date.now() + 30_000;
  while (clockOf('alpha')?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const c = clockOf('alpha');
  assert.equal(c?.status, 'True', `alpha not given VigilClock=True: ${JSON.stringify(c)}\n${agents[0]!.output().slice(-3000)}`);
  assert.equal(c.reason, 'ClockOffset');
  assert.match(c.message, /^the clock of alpha is (1\.9\d\d|2\.0\d\d) s ahead of 2 of 2 peers, which agree with each other \(threshold 0\.5 s\)$/);
  // keep watching a few more rounds: the healthy nodes, each seeing one skewed and one good peer, have no consensus to name themselves with
  await new Promise((r) => setTimeout(r, 5000));
  sampling = false;
  await sampler;
  assert.deepEqual(wrong, [], 'a healthy node was given VigilClock=True');
  const events = sim.store.list('events') as unknown as { type: string; reason: string; involvedObject: { name: string } }[];
  assert.deepEqual(events.map((e) => `${e.involvedObject.name} ${e.type} ${e.reason}`), ['alpha Warning ClockOffset']);
  assert.equal(clockOf('alpha')!.status, 'True', 'and it stays');
});
