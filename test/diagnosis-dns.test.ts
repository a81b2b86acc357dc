// DNS as three real agents see it, each through its own resolver (a real DNS server on loopback,
// standing for the node's path to cluster DNS): failing on one node names that node; failing on
// every node names cluster DNS, once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { TestDnsServer } from './support/dns-server.ts';
import { waitFor } from './support/etcd-agent.ts';
import { startLoopbackCluster, type LoopbackCluster } from './support/loopback-cluster.ts';

const NAMES = ['alpha', 'bravo', 'charlie'];
const SVC = 'kubernetes.default.svc.cluster.local';
const resolvers = new Map<string, TestDnsServer>();
let cluster: LoopbackCluster;

before(async () => {
  for (const n of NAMES) {
    const s = await TestDnsServer.start();
    s.answers.set(SVC, { a: ['10.96.0.1'] });
    resolvers.set(n, s);
  }
  cluster = await startLoopbackCluster({
    names: NAMES,
    intervalMs: 1000,
    // generous limits: a loaded machine must not make a healthy resolver look slow
    configure: (name) => ({ probes: { node: { enabled: false }, dns: { enabled: true, interval: '1s', timeout: '900ms', lookupTimeout: '800ms', latencyWarning: '700ms', servers: [resolvers.get(name)!.address] } } }),
  });
});

after(async () => {
  await cluster?.close();
  for (const s of resolvers.values()) await s.stop();
});

const status = async () => (await (await fetch(`${cluster.url('alpha')}/api/v1/status`)).json()) as ClusterStatus;
const dnsCauses = (s: ClusterStatus) => s.causes.filter((c) => c.kind.startsWith('dns') || c.probes?.includes('dns'));
const healthy = () =>
  waitFor(
    'DNS fine everywhere',
    async () => {
      const s = await status();
      return s.verdict === 'healthy' && s.nodes.every((n) => n.probes.some((p) => p.name === 'dns' && p.verdict === 'ok')) ? s : undefined;
    },
    30_000,
    async () => JSON.stringify((await status()).causes),
  );

test('DNS failing on one node: that node named, not cluster DNS', async () => {
  await healthy();
  resolvers.get('charlie')!.answers.set(SVC, { rcode: 'SERVFAIL' });
  // "1 of 3" needs every agent's answer in alpha's fan-out, not just the first one naming charlie
  const s = await waitFor(
    'charlie named in an answer from every agent',
    async () => {
      const st = await status();
      return dnsCauses(st).length > 0 && st.nodes.every((n) => n.answered) ? st : undefined;
    },
    30_000,
    async () => JSON.stringify(await status().then((st) => ({ causes: dnsCauses(st), unanswered: st.nodes.filter((n) => !n.answered).map((n) => n.name) }))),
  );
  const causes = dnsCauses(s);
  assert.deepEqual(
    causes.map((c) => [c.kind, c.nodes]),
    [['dns-node', ['charlie']]],
  );
  assert.equal(causes[0]!.message, `DNS failing on charlie only (1 of 3 agents; the others resolve): charlie: ${SVC} (A): the server failed to answer (SERVFAIL)`);
  resolvers.get('charlie')!.answers.set(SVC, { a: ['10.96.0.1'] });
  await healthy();
});

test('DNS failing on every node: cluster DNS named once, 3 of 3', async () => {
  for (const r of resolvers.values()) r.answers.set(SVC, { rcode: 'SERVFAIL' });
  // "3 of 3" needs every agent's answer: with one missing, the other two failing read as 2 of 2
  const s = await waitFor(
    'cluster DNS named in an answer from every agent',
    async () => {
      const st = await status();
      return dnsCauses(st).some((c) => c.kind === 'dns-down') && st.nodes.every((n) => n.answered) ? st : undefined;
    },
    30_000,
    async () => JSON.stringify(await status().then((st) => ({ causes: dnsCauses(st), unanswered: st.nodes.filter((n) => !n.answered).map((n) => n.name) }))),
  );
  const causes = dnsCauses(s);
  assert.deepEqual(
    causes.map((c) => [c.kind, c.seenBy?.agents]),
    [['dns-down', NAMES]],
  );
  assert.equal(causes[0]!.message, `cluster DNS failing from every agent (3 of 3): ${SVC} (A): the server failed to answer (SERVFAIL)`);
  assert.ok(causes[0]!.since);
});
