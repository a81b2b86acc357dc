import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makePki, type TestPki } from './support/certs.ts';
import { startEtcdCluster, type EtcdCluster } from './support/etcd.ts';
import { sample, settledVerdict, startEtcdAgent, waitFor, type EtcdAgent } from './support/etcd-agent.ts';

// One etcd member serving clients over TLS only, requiring a client certificate from the test's CA.
let dir: string;
let pki: TestPki;
let other: TestPki;
let etcd: EtcdCluster;
let ep: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pki-'));
  pki = makePki(dir, 'good');
  other = makePki(dir, 'other');
  etcd = await startEtcdCluster(1, { tls: { caFile: pki.caFile, certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } });
  ep = etcd.endpoints[0]!;
});

after(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Only the first verdict matters here; a long interval leaves a TLS handshake on a busy machine time to finish.
async function withAgent(etcdOptions: Record<string, unknown>, fn: (a: EtcdAgent) => Promise<void>): Promise<void> {
  const a = await startEtcdAgent({ endpoints: [ep], interval: '4s', writeLatency: { warning: '2s', critical: '3s' }, ...etcdOptions });
  try {
    await fn(a);
  } finally {
    await a.stop();
  }
}

const firstVerdict = (a: EtcdAgent) => settledVerdict(a);

test('the right CA and a client certificate: ok over TLS', async () => {
  await withAgent({ tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } }, async (a) => {
    const s = await firstVerdict(a);
    assert.equal(s.verdict, 'ok', s.message);
    assert.equal(sample(await a.scrape(), 'vigil_etcd_endpoint_up', { member: 'm0' }), 1);
  });
});

test('a CA that did not sign the server certificate: critical "tls" naming the endpoint, the agent keeps serving', async () => {
  await withAgent({ tls: { caFile: other.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } }, async (a) => {
    const s = await firstVerdict(a);
    assert.equal(s.verdict, 'critical');
    assert.equal(s.reason, 'tls');
    assert.match(s.message, new RegExp(`^etcd ${ep.replace(/\./g, '\\.')}: TLS handshake failed: the server certificate is not signed by the configured CA \\(.+\\)$`));
    const text = await a.scrape();
    // The probe's own settings are refused: that says nothing of the member, so it is not reported down.
    assert.doesNotMatch(text, /^vigil_etcd_(endpoint_up|has_leader)\b/m);
    assert.equal(sample(text, 'vigil_probe_failures_total', { probe: 'etcd', reason: 'tls' })! >= 1, true);
  });
});

test('no client certificate where etcd requires one: critical "tls"', async () => {
  await withAgent({ tls: { caFile: pki.caFile } }, async (a) => {
    const s = await firstVerdict(a);
    assert.equal(s.verdict, 'critical');
    assert.equal(s.reason, 'tls', s.message);
    assert.match(s.message, new RegExp(`^etcd ${ep.replace(/\./g, '\\.')}: TLS handshake failed: etcd rejected the client certificate \\(.+\\)$`));
  });
});

test('a CA file that does not exist: critical "tls" naming the file', async () => {
  const missing = path.join(dir, 'nope', 'ca.crt');
  await withAgent({ tls: { caFile: missing, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } }, async (a) => {
    const s = await firstVerdict(a);
    assert.deepEqual([s.verdict, s.reason], ['critical', 'tls']);
    assert.equal(s.message, `etcd: cannot read the etcd CA file ${missing}: no such file`);
  });
});

test('the CA file replaced with the right one (a renewed Secret): the same agent recovers', async () => {
  const caFile = path.join(dir, 'rotating-ca.crt');
  copyFileSync(other.caFile, caFile);
  await withAgent({ interval: '2s', requestTimeout: '1s', tls: { caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } }, async (a) => {
    const s = await firstVerdict(a);
    assert.deepEqual([s.verdict, s.reason], ['critical', 'tls']);
    copyFileSync(pki.caFile, caFile);
    await waitFor(
      'ok after the CA file was replaced',
      async () => ((await a.etcdStatus()).verdict === 'ok' ? true : undefined),
      20_000,
      async () => JSON.stringify(await a.etcdStatus()),
    );
  });
});
