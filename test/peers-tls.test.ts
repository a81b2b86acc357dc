import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { createLogger } from '../src/log.ts';
import { eventually } from './support/agent-process.ts';
import { freePort } from './support/etcd.ts';
import { httpsGet } from './support/https-get.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';
import { makeCa, makeCert } from './support/tls-certs.ts';

/** Two agents whose endpoints need TLS with client certificates and basic auth: they still reach each other. */
void describe('peer traffic over TLS', () => {
  let dir: string;
  let ca: Buffer;
  let client: { cert: Buffer; key: Buffer };
  let agentCertFile: string;
  const agents: LocalAgent[] = [];
  // what the first agent logs, as JSON lines
  const logged: string[] = [];
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-peer-tls-'));
    const caPair = makeCa(dir, 'ca');
    ca = readFileSync(caPair.cert);
    const server = makeCert(dir, 'server', caPair, 'vigil');
    const agentClient = makeCert(dir, 'agent-client', caPair, 'vigil-agent');
    agentCertFile = agentClient.cert;
    const c = makeCert(dir, 'prometheus', caPair, 'prometheus');
    client = { cert: readFileSync(c.cert), key: readFileSync(c.key) };
    writeFileSync(
      path.join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${caPair.cert}\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 4)}\n`,
    );
    writeFileSync(path.join(dir, 'token'), 'a-shared-peer-token-of-some-length\n');
    const ports = [await freePort(), await freePort()];
    const names = ['tls-a', 'tls-b'];
    for (const [i, name] of names.entries()) {
      const other = 1 - i;
      agents.push(
        await startLocalAgent(
          `node:\n  name: ${name}\nweb:\n  configFile: ${path.join(dir, 'web.yml')}\nprobes:\n  node:\n    enabled: false\npeers:\n  discovery: [static]\n  static:\n    - node: ${names[other]}\n      pod: "127.0.0.1:${ports[other]}"\n  interval: 500ms\n  timeout: 400ms\n  tokenFile: ${path.join(dir, 'token')}\n  tls:\n    caFile: ${caPair.cert}\n    certFile: ${agentClient.cert}\n    keyFile: ${agentClient.key}\n`,
          { listen: `127.0.0.1:${ports[i]}`, node: name, ...(i === 0 ? { deps: { logger: createLogger('info', new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) })) } } : {}) },
        ),
      );
    }
  });
  after(async () => {
    for (const a of agents) await a.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('each agent pings the other over TLS with its client certificate and the peer token', async () => {
    for (const [i, a] of agents.entries()) {
      const other = i === 0 ? 'tls-b' : 'tls-a';
      await eventually(
        async () => {
          const r = await httpsGet(`${a.url}/metrics`, { ca, ...client, auth: 'prometheus:s3cret' });
          return new RegExp(`^vigil_peer_up\\{peer_node="${other}",network="pod"\\} 1$`, 'm').test(r.body) ? true : undefined;
        },
        20_000,
        `${a.url} sees ${other} up`,
      ).catch(async (err: Error) => {
        const r = await httpsGet(`${a.url}/api/v1/status/local`, { ca, ...client, headers: { authorization: 'Bearer a-shared-peer-token-of-some-length' } });
        throw new Error(`${err.message}: ${r.body}`);
      });
    }
  });

  void test('the cluster status fans out over TLS: both nodes answered', async () => {
    // The cluster status is a peer endpoint: it takes the peer token (which also stands for basic auth).
    // Seen up by a ping is not answered in a fan-out: on a busy machine a ping or a fan-out request
    // can miss its deadline, so the answer in which both nodes answered is waited for.
    let last: { status: number; body: string } | undefined;
    const s = await eventually(
      async () => {
        last = await httpsGet(`${agents[0]!.url}/api/v1/status`, { ca, ...client, headers: { authorization: 'Bearer a-shared-peer-token-of-some-length' } });
        const st = last.status === 200 ? (JSON.parse(last.body) as { nodes: { name: string; answered: boolean; error: string | null }[] }) : undefined;
        return st?.nodes.every((n) => n.answered) ? st : undefined;
      },
      30_000,
      'a cluster status in which both nodes answered',
    ).catch((err: Error) => assert.fail(`${err.message}: HTTP ${last?.status} ${last?.body}`));
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.answered, n.error]),
      [
        ['tls-a', true, null],
        ['tls-b', true, null],
      ],
    );
  });

  void test('a client certificate replaced by garbage: the reload fails and says so, peers are still reached with the previous one; a good one is taken again', async () => {
    const metrics = async () => (await httpsGet(`${agents[0]!.url}/metrics`, { ca, ...client, auth: 'prometheus:s3cret' })).body;
    assert.match(await metrics(), /^vigil_peer_tls_reload_successful 1$/m);
    const good = readFileSync(agentCertFile);
    writeFileSync(agentCertFile, 'not a certificate\n');
    await eventually(async () => (/^vigil_peer_tls_reload_successful 0$/m.test(await metrics()) ? true : undefined), 20_000, 'the failed reload exported');
    assert.equal(logged.filter((l) => l.includes('the changed peer TLS files cannot be used')).length, 1, 'the failed reload logged once, not at every check');
    // pings after the failure still get through, on the previous files
    const failedAt = Date.now();
    await eventually(
      async () => {
        const r = await httpsGet(`${agents[0]!.url}/api/v1/status/local`, { ca, ...client, headers: { authorization: 'Bearer a-shared-peer-token-of-some-length' } });
        const seen = (JSON.parse(r.body) as { peers: { peer: string; network: string; up: boolean; lastChecked: string }[] }).peers.find((p) => p.peer === 'tls-b' && p.network === 'pod');
        return seen?.up && Date.parse(seen.lastChecked) > failedAt + 1000 ? true : undefined;
      },
      20_000,
      'tls-b answering pings after the failed reload',
    );
    writeFileSync(agentCertFile, good);
    await eventually(async () => (/^vigil_peer_tls_reload_successful 1$/m.test(await metrics()) ? true : undefined), 20_000, 'the good file taken again');
  });

  void test('the peer token does not open the endpoints to a client without a certificate', async () => {
    await assert.rejects(httpsGet(`${agents[0]!.url}/api/v1/status/local`, { ca, auth: undefined }), /alert certificate required/);
  });
});
