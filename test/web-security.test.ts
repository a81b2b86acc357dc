import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeCa, makeCert, type KeyPair } from './support/tls-certs.ts';
import { eventually } from './support/agent-process.ts';
import { httpsGet } from './support/https-get.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';

/** Replaces a file the way Kubernetes updates a mounted secret: a new file renamed over the old one. */
function replaceFile(target: string, from: string): void {
  const tmp = `${target}.new`;
  copyFileSync(from, tmp);
  renameSync(tmp, target);
}

void describe('TLS, client certificates and basic auth from the web config file', () => {
  let dir: string;
  let ca: KeyPair;
  let client: { cert: Buffer; key: Buffer };
  let stranger: { cert: Buffer; key: Buffer };
  let caPem: Buffer;
  let strict: LocalAgent;
  let lenient: LocalAgent;
  const webYml = (users: string, auth = 'RequireAndVerifyClientCert') => `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: ${auth}
  client_ca_file: ca.crt
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
basic_auth_users:
${users}`;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-tls-'));
    ca = makeCa(dir, 'ca');
    caPem = readFileSync(ca.cert);
    const srv = makeCert(dir, 'server-1', ca, 'first');
    copyFileSync(srv.cert, path.join(dir, 'server.crt'));
    copyFileSync(srv.key, path.join(dir, 'server.key'));
    const c = makeCert(dir, 'client', ca, 'prometheus');
    client = { cert: readFileSync(c.cert), key: readFileSync(c.key) };
    const otherCa = makeCa(dir, 'other-ca');
    const s = makeCert(dir, 'stranger', otherCa, 'stranger');
    stranger = { cert: readFileSync(s.cert), key: readFileSync(s.key) };
    writeFileSync(path.join(dir, 'web.yml'), webYml(`  prometheus: ${bcrypt.hashSync('s3cret', 4)}\n`));
    writeFileSync(path.join(dir, 'web-lenient.yml'), webYml(`  prometheus: ${bcrypt.hashSync('s3cret', 4)}\n`, 'VerifyClientCertIfGiven'));
    strict = await startLocalAgent(`web:\n  configFile: ${path.join(dir, 'web.yml')}\nprobes:\n  node:\n    interval: 1s\n`);
    lenient = await startLocalAgent(`web:\n  configFile: ${path.join(dir, 'web-lenient.yml')}\n`);
  });
  after(async () => {
    await strict?.dispose();
    await lenient?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('the agent serves HTTPS', () => {
    assert.equal(strict.tls, true);
    assert.match(strict.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  void test('a client without a certificate is refused when certificates are required', async () => {
    await assert.rejects(httpsGet(`${strict.url}/metrics`, { ca: caPem, auth: 'prometheus:s3cret' }), /alert certificate required/);
  });

  void test('a client with a certificate from another CA is refused', async () => {
    await assert.rejects(httpsGet(`${strict.url}/metrics`, { ca: caPem, ...stranger, auth: 'prometheus:s3cret' }), /alert unknown ca|socket hang up|ECONNRESET/);
    await assert.rejects(httpsGet(`${lenient.url}/metrics`, { ca: caPem, ...stranger, auth: 'prometheus:s3cret' }), /socket hang up|ECONNRESET/);
  });

  void test('VerifyClientCertIfGiven lets a client without a certificate in', async () => {
    const r = await httpsGet(`${lenient.url}/metrics`, { ca: caPem, auth: 'prometheus:s3cret' });
    assert.equal(r.status, 200);
  });

  void test('missing or wrong credentials get 401 with WWW-Authenticate and no data', async () => {
    for (const auth of [undefined, 'prometheus:wrong', 'nobody:s3cret', 'prometheus:']) {
      for (const p of ['/metrics', '/api/v1/status/local', '/api/v1/history/local', '/', '/no-such-page']) {
        const r = await httpsGet(`${strict.url}${p}`, { ca: caPem, ...client, auth });
        assert.equal(r.status, 401, `${p} with ${auth}`);
        assert.equal(r.headers['www-authenticate'], 'Basic realm="vigil", charset="UTF-8"');
        assert.deepEqual(JSON.parse(r.body), { error: 'authentication required: give a user and password (HTTP basic auth)' });
      }
    }
  });

  void test('the right credentials and certificate get the metrics, with the configured headers', async () => {
    const r = await httpsGet(`${strict.url}/metrics`, { ca: caPem, ...client, auth: 'prometheus:s3cret' });
    assert.equal(r.status, 200);
    assert.match(r.body, /^vigil_build_info\{/m);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.body, /^vigil_http_requests_rejected_total\{reason="unauthorized"\} [1-9]/m);
  });

  void test('liveness and readiness answer without credentials', async () => {
    assert.equal((await httpsGet(`${strict.url}/healthz`, { ca: caPem, ...client })).status, 200);
    assert.equal((await httpsGet(`${strict.url}/readyz`, { ca: caPem, ...client })).status, 200);
  });

  void test('a rotated certificate and changed users take effect without a restart; a broken file is refused', async () => {
    const ok = (auth: string) => httpsGet(`${strict.url}/metrics`, { ca: caPem, ...client, auth });
    assert.equal((await ok('prometheus:s3cret')).serverCert.subject.CN, 'first');
    const next = makeCert(dir, 'server-2', ca, 'second');
    replaceFile(path.join(dir, 'server.key'), next.key);
    replaceFile(path.join(dir, 'server.crt'), next.cert);
    await eventually(async () => ((await ok('prometheus:s3cret')).serverCert.subject.CN === 'second' ? true : undefined), 15_000, 'the rotated certificate');

    writeFileSync(path.join(dir, 'web.yml.src'), webYml(`  prometheus: ${bcrypt.hashSync('n3w', 4)}\n`));
    replaceFile(path.join(dir, 'web.yml'), path.join(dir, 'web.yml.src'));
    await eventually(async () => ((await ok('prometheus:n3w')).status === 200 ? true : undefined), 15_000, 'the new password');
    assert.equal((await ok('prometheus:s3cret')).status, 401);

    writeFileSync(path.join(dir, 'web.yml.src'), 'basic_auth_users:\n  prometheus: plain-text\n');
    replaceFile(path.join(dir, 'web.yml'), path.join(dir, 'web.yml.src'));
    await eventually(async () => (/^vigil_web_config_last_reload_successful 0$/m.test((await ok('prometheus:n3w')).body) ? true : undefined), 15_000, 'the refused reload');
    assert.equal((await ok('prometheus:n3w')).serverCert.subject.CN, 'second');
    assert.equal((await ok('prometheus:s3cret')).status, 401);
  });

  void test('the agent refuses to start on an invalid web config file, naming the problem (exit 2)', () => {
    writeFileSync(path.join(dir, 'bad.yml'), 'tls_server_config:\n  cert_file: server.crt\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '--web.config.file', path.join(dir, 'bad.yml'), '--storage.path', path.join(dir, 'data'), '--web.listen-address', '127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `${path.join(dir, 'bad.yml')}: tls_server_config.key_file: is required\n`);
  });
});
