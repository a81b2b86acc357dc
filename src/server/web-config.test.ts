import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../config/load.ts';
import { makeCa, makeCert } from '../../test/support/tls-certs.ts';
import { Registry } from 'prom-client';
import { silentLogger } from '../log.ts';
import { loadWebConfig, parseWebConfig } from './web-config.ts';
import { openWebConfig } from './web-config-source.ts';

const HASH = '$2b$10$iQGkmf2LuHte10FVtuKKH.xYZSRtLRTNkli7jCmbQWEXCjClx/9SC';

void describe('web config', () => {
  let dir: string;
  let name: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-webcfg-'));
    name = path.join(dir, 'web.yml');
    const ca = makeCa(dir, 'ca');
    const srv = makeCert(dir, 'server', ca, 'localhost');
    copyFileSync(srv.cert, path.join(dir, 'tls.crt'));
    copyFileSync(srv.key, path.join(dir, 'tls.key'));
    const other = makeCert(dir, 'other', ca);
    copyFileSync(other.key, path.join(dir, 'other.key'));
    writeFileSync(path.join(dir, 'garbage.pem'), 'not a certificate\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const problems = (text: string): string[] => {
    try {
      parseWebConfig(name, text);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      return err.problems.map((p) => p.replaceAll(dir, '<dir>'));
    }
    assert.fail('the config was accepted');
  };

  void test('a complete file loads, with paths relative to it and Go names mapped to OpenSSL ones', () => {
    const c = parseWebConfig(
      name,
      `tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: ${HASH}
`,
    );
    assert.equal(c.tls?.clientAuth, 'RequireAndVerifyClientCert');
    assert.equal(c.tls?.minVersion, 'TLS13');
    assert.deepEqual(c.tls?.cipherSuites, ['ECDHE-RSA-AES128-GCM-SHA256']);
    assert.deepEqual(c.tls?.curves, ['X25519', 'P-256']);
    assert.ok(c.tls?.material.notAfter > Date.now());
    assert.deepEqual(c.files, [name, path.join(dir, 'tls.crt'), path.join(dir, 'tls.key'), path.join(dir, 'ca.crt')]);
    assert.equal(c.users.get('prometheus'), HASH);
    assert.deepEqual(c.headers, { 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=31536000' });
  });

  void test('an empty file means plain HTTP without authentication', () => {
    const c = parseWebConfig(name, '');
    assert.equal(c.tls, undefined);
    assert.equal(c.users.size, 0);
  });

  const bad: [string, string, string[]][] = [
    ['unknown top-level key', 'tls_config: {}\n', ['<dir>/web.yml: unknown key "tls_config"']],
    ['missing key file', 'tls_server_config:\n  cert_file: tls.crt\n', ['<dir>/web.yml: tls_server_config.key_file: is required']],
    [
      'unknown client auth type',
      'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_auth_type: Always\n',
      ['<dir>/web.yml: tls_server_config.client_auth_type: expected one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert, got "Always"'],
    ],
    [
      'verification without a CA',
      'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_auth_type: RequireAndVerifyClientCert\n',
      ['<dir>/web.yml: tls_server_config.client_ca_file: is required when client_auth_type is RequireAndVerifyClientCert'],
    ],
    [
      'a CA without a policy',
      'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_ca_file: ca.crt\n',
      ['<dir>/web.yml: tls_server_config.client_auth_type: client_ca_file is set but client_auth_type is NoClientCert; set VerifyClientCertIfGiven or RequireAndVerifyClientCert'],
    ],
    ['min above max', 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  min_version: TLS13\n  max_version: TLS12\n', ['<dir>/web.yml: tls_server_config.min_version: must not be above max_version (TLS12), got TLS13']],
    [
      'unknown cipher',
      'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  cipher_suites: [RC4]\n',
      [
        `<dir>/web.yml: tls_server_config.cipher_suites[0]: expected one of TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, got "RC4"`,
      ],
    ],
    ['missing certificate file', 'tls_server_config:\n  cert_file: nope.crt\n  key_file: tls.key\n', ['<dir>/web.yml: tls_server_config.cert_file: cannot read <dir>/nope.crt: no such file']],
    ['not a certificate', 'tls_server_config:\n  cert_file: garbage.pem\n  key_file: tls.key\n', ['<dir>/web.yml: tls_server_config.cert_file: not a PEM certificate']],
    ['a key of another certificate', 'tls_server_config:\n  cert_file: tls.crt\n  key_file: other.key\n', ['<dir>/web.yml: tls_server_config.key_file: the key does not belong to the certificate in cert_file']],
    ['a plain password instead of a hash (not echoed)', 'basic_auth_users:\n  alice: hunter2\n', ['<dir>/web.yml: basic_auth_users.alice: expected a bcrypt hash ($2a$, $2b$ or $2y$ with cost 4-31), got a string of 7 characters']],
    ['a user name with a colon', `basic_auth_users:\n  "a:b": ${HASH}\n`, ['<dir>/web.yml: basic_auth_users.a:b: a user name must be non-empty and contain no ":"']],
    [
      'a header that cannot be set',
      'http_server_config:\n  headers:\n    Set-Cookie: x=1\n',
      ['<dir>/web.yml: http_server_config.headers.Set-Cookie: this header cannot be configured (allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)'],
    ],
    ['a header value outside its set', 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n', ['<dir>/web.yml: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin, got "allow"']],
    ['users as a list', 'basic_auth_users: [alice]\n', ['<dir>/web.yml: basic_auth_users: expected a record, got a list']],
    ['invalid YAML', 'tls_server_config: [\n', ['<dir>/web.yml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  ];
  for (const [what, text, expected] of bad) {
    void test(`refused: ${what}`, () => {
      assert.deepEqual(problems(text), expected);
    });
  }

  void test('a missing web config file is named', () => {
    assert.throws(
      () => loadWebConfig(path.join(dir, 'absent.yml')),
      (err: unknown) => err instanceof ConfigError && err.message === `${path.join(dir, 'absent.yml')}: cannot read the web config file: no such file`,
    );
  });

  void test('its metrics exist only with a file, and the certificate expiry only when serving TLS', async () => {
    const exported = async (file: string | undefined) => {
      const registry = new Registry();
      const source = openWebConfig(file, { logger: silentLogger(), registry, now: () => 0 });
      return { source, values: Object.fromEntries((await registry.getMetricsAsJSON()).map((m) => [m.name, m.values[0]?.value])) };
    };
    const none = await exported(undefined);
    assert.equal(none.source, undefined);
    assert.deepEqual(none.values, {});

    const plain = path.join(dir, 'plain.yml');
    writeFileSync(plain, `basic_auth_users:\n  alice: ${HASH}\n`);
    assert.deepEqual((await exported(plain)).values, { vigil_web_config_last_reload_successful: 1 });

    const tls = path.join(dir, 'tls.yml');
    writeFileSync(tls, 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n');
    const { source, values } = await exported(tls);
    assert.deepEqual(Object.keys(values).sort(), ['vigil_web_config_last_reload_successful', 'vigil_web_tls_certificate_expiry_timestamp_seconds']);
    assert.equal(values.vigil_web_tls_certificate_expiry_timestamp_seconds, source!.current().tls!.material.notAfter / 1000);
  });
});
