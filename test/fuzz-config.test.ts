import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { parseWebConfig } from '../src/server/web-config.ts';
import { ALIAS_BOMB, Fuzz, deepYaml } from './support/fuzz.ts';

const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261125);
const CASES = 1500;

const VALID = `node:
  name: worker-1
  podIP: 198.18.0.2
web:
  listenAddress: ":10924"
  limits:
    maxConcurrentRequests: 64
    headerTimeout: 5s
storage:
  path: /var/lib/vigil
  retention: 7d
log:
  level: info
shutdown:
  gracePeriod: 10s
kubernetes:
  namespace: vigil
probes:
  node:
    interval: 30s
    filesystem:
      warning: 0.8
`;
const KEYS = [
  'node',
  'web',
  'storage',
  'log',
  'shutdown',
  'kubernetes',
  'probes',
  'name',
  'podIP',
  'listenAddress',
  'configFile',
  'limits',
  'maxConnections',
  'headerTimeout',
  'path',
  'retention',
  'level',
  'gracePeriod',
  'namespace',
  'enabled',
  'interval',
  'timeout',
  'filesystem',
  'memory',
  'warning',
  'critical',
  'paths',
  'rootfs',
  ...builtinProbes.map((p) => p.name),
];

const VALID_WEB = `tls_server_config:
  cert_file: /nonexistent/tls.crt
  key_file: /nonexistent/tls.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: /nonexistent/ca.crt
  min_version: TLS12
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
http_server_config:
  headers:
    X-Frame-Options: deny
basic_auth_users:
  prometheus: $2b$10$iQGkmf2LuHte10FVtuKKH.xYZSRtLRTNkli7jCmbQWEXCjClx/9SC
`;
const WEB_KEYS = [
  'tls_server_config',
  'http_server_config',
  'basic_auth_users',
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'min_version',
  'max_version',
  'cipher_suites',
  'curve_preferences',
  'headers',
  'http2',
  'prometheus',
];

/** Texts a hostile or careless operator could hand the loader. */
function* inputs(f: Fuzz, valid: string, keys: readonly string[]): Generator<string> {
  yield deepYaml(5000);
  yield deepYaml(5000, '{a: ', '}');
  yield `${'- '.repeat(3000)}x\n`;
  yield ALIAS_BOMB;
  yield '\u0000\u0001\u0002';
  yield '\ufeff' + valid;
  for (let i = 0; i < CASES; i++) {
    const kind = f.int(4);
    if (kind === 0) yield f.mutate(f.bool() ? valid : f.mutate(valid));
    else if (kind === 1) yield stringify(Object.fromEntries(Array.from({ length: 1 + f.int(4) }, () => [f.key(keys), nest(f, keys, 3)])));
    else if (kind === 2) yield f.bytes(200).toString(f.bool() ? 'latin1' : 'utf8');
    else yield f.string(200);
  }
}

function nest(f: Fuzz, keys: readonly string[], depth: number): unknown {
  if (depth === 0 || f.bool(0.4)) return f.value(1);
  return Object.fromEntries(Array.from({ length: 1 + f.int(3) }, () => [f.key(keys), nest(f, keys, depth - 1)]));
}

/** Every problem is one clean line that starts with the file's name; nothing else may be thrown. */
function assertClean(err: unknown, file: string, input: string, index: number): void {
  const where = `seed ${SEED} case ${index}: ${JSON.stringify(input.slice(0, 120))}`;
  assert.ok(err instanceof ConfigError, `${where}: threw ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
  assert.ok(err.problems.length > 0, `${where}: no problems listed`);
  for (const p of err.problems) {
    assert.ok(p.startsWith(`${file}:`), `${where}: problem does not name the file: ${p}`);
    assert.ok(!p.includes('\n'), `${where}: a line break (or a stack trace) in ${p}`);
    assert.ok(p.length < 2000, `${where}: a problem of ${p.length} characters`);
  }
}

void test(`the config loader answers thousands of hostile files with a ConfigError naming the file and key (seed ${SEED})`, () => {
  const f = new Fuzz(SEED);
  let accepted = 0;
  let index = 0;
  for (const text of inputs(f, VALID, KEYS)) {
    try {
      loadConfig({ probes: builtinProbes, file: { name: 'fuzz.yml', text } });
      accepted++;
    } catch (err) {
      assertClean(err, 'fuzz.yml', text, index);
    }
    index++;
  }
  // Some mutations stay valid (a repeated comment, a changed digit); most must not.
  assert.ok(accepted > 0 && accepted < index / 2, `${accepted} of ${index} accepted`);
});

void test(`hostile flags and environment values are reported against their source (seed ${SEED})`, () => {
  const f = new Fuzz(SEED + 1);
  const SOURCES = ['--web.listen-address', '--storage.retention', '--log.level', '$POD_IP'];
  let rejected = 0;
  for (let i = 0; i < 300; i++) {
    const value = f.string(60);
    try {
      loadConfig({ probes: builtinProbes, flags: { 'web.listen-address': value, 'storage.retention': f.string(10), 'log.level': f.string(8) }, env: { POD_IP: f.string(20) } });
    } catch (err) {
      rejected++;
      assertClean(err, 'config', value, i);
      for (const p of (err as ConfigError).problems) {
        const from = /^config: [\w.]+ \(from (\S+)\): /.exec(p)?.[1];
        assert.ok(from !== undefined && SOURCES.includes(from), `seed ${SEED} case ${i}: the problem does not name the flag or variable it came from: ${p}`);
      }
    }
  }
  // Random text is almost never a listen address, a duration, a log level and an IP address at once.
  assert.ok(rejected > 290, `only ${rejected} of 300 hostile inputs were rejected`);
});

void test(`the web config loader answers hostile files with a ConfigError naming the file and key (seed ${SEED})`, () => {
  const f = new Fuzz(SEED + 2);
  let index = 0;
  for (const text of inputs(f, VALID_WEB, WEB_KEYS)) {
    try {
      parseWebConfig('web-fuzz.yml', text);
    } catch (err) {
      assertClean(err, 'web-fuzz.yml', text, index);
    }
    index++;
  }
});
