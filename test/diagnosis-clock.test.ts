// Clock consensus with real agents: alpha runs with its clock 2 s ahead (libfaketime, from
// Debian's faketime). Every agent's cluster status, sampled every second from start, names alpha
// within three ping intervals and never names a healthy node.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { freePort, loopbackAddresses, removeDir, startAll, startPeerAgent, type PeerAgent } from './support/peer-agents.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const INTERVAL_MS = 1000;
const NAMES = ['alpha', 'bravo', 'charlie'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-clock-'));
let agents: PeerAgent[] = [];

after(async () => {
  await Promise.all(agents.map((a) => a.kill()));
  removeDir(dir);
});

test('the skewed node is named within three ping intervals, and no other node ever is', { timeout: 120_000 }, async () => {
  const ips = new Map(loopbackAddresses(NAMES.length).map((ip, i) => [NAMES[i]!, ip]));
  const addr = new Map<string, string>();
  for (const n of NAMES) addr.set(n, `${ips.get(n)}:${await freePort(ips.get(n))}`);
  const staticPeers = NAMES.map((n) => ({ node: n, pod: addr.get(n)! }));

  // Sample from the start: every second, every agent that answers.
  const samples: { at: number; from: string; named: string[][]; messages: string[] }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      await Promise.all(
        NAMES.map(async (n) => {
          const s = (await fetch(`http://${addr.get(n)}/api/v1/status`, { signal: AbortSignal.timeout(2000) })
            .then((r) => r.json())
            .catch(() => undefined)) as ClusterStatus | undefined;
          if (!s?.causes) return;
          const clock = s.causes.filter((c) => c.kind === 'clock-offset');
          samples.push({ at, from: n, named: clock.map((c) => c.nodes), messages: clock.map((c) => c.message) });
        }),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - at))));
    }
  })();

  agents = await startAll(
    NAMES.map(
      (n) => () =>
        startPeerAgent({
          name: n,
          url: `http://${addr.get(n)}`,
          dir: mkdtempSync(path.join(dir, `${n}-`)),
          config: { web: { listenAddress: addr.get(n) }, peers: { discovery: ['static'], static: staticPeers, interval: `${INTERVAL_MS}ms`, timeout: '500ms', clockOffsetThreshold: '500ms' } },
          env: n === 'alpha' ? { FAKETIME: '+2s', FAKETIME_DONT_FAKE_MONOTONIC: '1', LD_PRELOAD: LIBFAKETIME } : {},
        }),
    ),
  );
  const ready = Date.now();
  // Sample on for a while after alpha is first named, to see that nothing else ever is.
  const deadline = ready + 3 * INTERVAL_MS;
  while (Date.now() < ready + 12_000) await new Promise((r) => setTimeout(r, 250));
  sampling = false;
  await sampler;

  const wrong = samples.filter((s) => s.named.some((nodes) => nodes.length !== 1 || nodes[0] !== 'alpha'));
  assert.deepEqual(wrong, [], 'a healthy node was named for its clock');
  const first = samples.find((s) => s.named.length > 0);
  assert.ok(first, `alpha was never named; ${samples.length} samples`);
  assert.ok(first.at <= deadline, `alpha first named ${first.at - ready} ms after the agents were ready (limit ${3 * INTERVAL_MS} ms)`);
  assert.match(first.messages[0]!, /^clock of alpha is (1\.9\d\d|2\.0\d\d) s ahead of 2 of 2 observers/);
  // and from then on, by every agent asked
  const later = samples.filter((s) => s.at >= first.at + 2 * INTERVAL_MS);
  assert.ok(later.length >= 3 && later.every((s) => s.named.length === 1), JSON.stringify(later.filter((s) => s.named.length !== 1)));
});
