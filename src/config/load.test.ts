import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.ts';
import { builtinProbes } from '../probes/index.ts';

const load = (text: string, extra: Omit<Parameters<typeof loadConfig>[0], 'probes' | 'file'> = {}) => loadConfig({ probes: builtinProbes, file: { name: 'vigil.yaml', text }, ...extra });

function problems(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail(`config was accepted:\n${text}`);
}

describe('loadConfig', () => {
  it('fills every default from an empty file', () => {
    const c = load('');
    assert.deepEqual(c.web.listenAddress, { text: ':10924', host: undefined, port: 10924 });
    assert.equal(c.storage.path, './data');
    assert.equal(c.storage.retention, 7 * 24 * 3600 * 1000);
    assert.equal(c.shutdown.gracePeriod, 10_000);
    assert.equal(c.log.level, 'info');
    assert.equal(c.kubernetes.namespace, 'vigil');
    assert.deepEqual(c.probes.node, { enabled: true, interval: 30_000, timeout: 10_000, rootfs: '/', filesystem: { warning: 0.8, critical: 0.9 }, memory: { warning: 0.8, critical: 0.9 } });
  });

  it('reads durations, thresholds and probe toggles from the file', () => {
    const c = load('storage:\n  retention: 1d12h\nprobes:\n  node:\n    interval: 1m\n    timeout: 5s\n    paths: [/, /var/lib/etcd]\n    filesystem: {warning: 0.7}\n');
    assert.equal(c.storage.retention, 36 * 3600 * 1000);
    assert.equal(c.probes.node!.interval, 60_000);
    assert.equal(c.probes.node!.timeout, 5_000);
    assert.deepEqual(c.probes.node!.paths, ['/', '/var/lib/etcd']);
    assert.deepEqual(c.probes.node!.filesystem, { warning: 0.7, critical: 0.9 });
  });

  it('keeps the default timeout below a short interval, with room for the jitter', () => {
    const c = load('probes:\n  node:\n    interval: 2s\n');
    assert.equal(c.probes.node!.timeout, 1600);
  });

  it('takes a timeout up to 90 % of the interval: a run may start 10 % early', () => {
    assert.equal(load('probes:\n  node:\n    interval: 5s\n    timeout: 4500ms\n').probes.node!.timeout, 4500);
  });

  it('disables a probe with enabled: false', () => {
    assert.equal(load('probes:\n  node:\n    enabled: false\n').probes.node!.enabled, false);
  });

  it('lets the environment override the file, and flags override both', () => {
    const c = load('node:\n  name: from-file\nweb:\n  listenAddress: ":1"\n', {
      env: { NODE_NAME: 'from-env', POD_IP: '198.18.0.7', HOST_IP: '198.19.0.7', POD_NAMESPACE: 'monitoring' },
      flags: { 'web.listen-address': '127.0.0.1:0' },
    });
    assert.equal(c.node.name, 'from-env');
    assert.equal(c.node.podIP, '198.18.0.7');
    assert.equal(c.node.hostIP, '198.19.0.7');
    assert.equal(c.kubernetes.namespace, 'monitoring');
    assert.deepEqual(c.web.listenAddress, { text: '127.0.0.1:0', host: '127.0.0.1', port: 0 });
    assert.equal(load('node:\n  name: from-file\n', { env: { NODE_NAME: 'e' }, flags: { 'node.name': 'f' } }).node.name, 'f');
  });

  it('names the flag or variable a bad value came from', () => {
    assert.throws(() => load('', { flags: { 'storage.retention': 'soon' } }), {
      message: 'vigil.yaml: storage.retention (from --storage.retention): expected a duration such as "30s" or "5m", got "soon"',
    });
    assert.throws(() => load('', { env: { POD_IP: 'not-an-ip' } }), { message: 'vigil.yaml: node.podIP (from $POD_IP): expected an IP address, got "not-an-ip"' });
  });

  it('reports every problem at once', () => {
    assert.deepEqual(problems('web:\n  listenAddress: x\nlog:\n  level: loud\n'), [
      'vigil.yaml: web.listenAddress: expected host:port or :port with a port from 0 to 65535, got "x"',
      'vigil.yaml: log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"',
    ]);
  });
});

const KNOWN = builtinProbes.map((p) => p.name).join(', ');

// Each bad config and the exact message an operator sees (from `vigil check-config` and at start-up).
const BAD: [string, string][] = [
  ['web: [1, 2]', 'vigil.yaml: web: expected a mapping, got a list'],
  ['web:\n  listen: ":1"', 'vigil.yaml: web: unknown key "listen"'],
  ['web:\n  listenAddress: localhost', 'vigil.yaml: web.listenAddress: expected host:port or :port with a port from 0 to 65535, got "localhost"'],
  ['web:\n  listenAddress: ":70000"', 'vigil.yaml: web.listenAddress: expected host:port or :port with a port from 0 to 65535, got ":70000"'],
  ['web:\n  listenAddress: 10924', 'vigil.yaml: web.listenAddress: expected a string, got number 10924'],
  ['storage:\n  retention: forever', 'vigil.yaml: storage.retention: expected a duration such as "30s" or "5m", got "forever"'],
  ['storage:\n  retention: 30s', 'vigil.yaml: storage.retention: must be at least 1m, got "30s"'],
  ['storage:\n  path: ""', 'vigil.yaml: storage.path: must not be empty'],
  ['log:\n  level: verbose', 'vigil.yaml: log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "verbose"'],
  ['probes:\n  nod: {}', `vigil.yaml: probes: unknown probe "nod" (known probes: ${KNOWN})`],
  ['probes:\n  node:\n    enabled: "yes"', 'vigil.yaml: probes.node.enabled: expected a boolean, got "yes"'],
  ['probes:\n  node:\n    interval: 10', 'vigil.yaml: probes.node.interval: expected a duration such as "30s" or "5m", got number 10'],
  ['probes:\n  node:\n    interval: 100ms', 'vigil.yaml: probes.node.interval: must be at least 1s, got "100ms"'],
  ['probes:\n  node:\n    interval: 10s\n    timeout: 20s', 'vigil.yaml: probes.node.timeout: must be at most 9s, 90 % of the interval (10s): a run may start 10 % early, and the one before must be over by then; got 20s'],
  ['probes:\n  node:\n    interval: 5s\n    timeout: 4600ms', 'vigil.yaml: probes.node.timeout: must be at most 4500ms, 90 % of the interval (5s): a run may start 10 % early, and the one before must be over by then; got 4600ms'],
  ['probes:\n  node:\n    paths: relative', 'vigil.yaml: probes.node.paths: expected a list, got "relative"'],
  ['probes:\n  node:\n    paths: [relative/dir]', 'vigil.yaml: probes.node.paths[0]: must be an absolute path'],
  ['probes:\n  node:\n    paths: []', 'vigil.yaml: probes.node.paths: must not be empty'],
  ['probes:\n  node:\n    filesystem:\n      warning: 0.95\n      critical: 0.9', 'vigil.yaml: probes.node.filesystem.warning: must be below critical (0.9), got 0.95'],
  ['probes:\n  node:\n    memory:\n      critical: 1.5', 'vigil.yaml: probes.node.memory.critical: must be between 0 and 1'],
  ['probes:\n  node:\n    colour: red', 'vigil.yaml: probes.node: unknown key "colour"'],
  ['node:\n  podIP: 10.0.0.300', 'vigil.yaml: node.podIP: expected an IP address, got "10.0.0.300"'],
  ['node:\n  name: ""', 'vigil.yaml: node.name: must not be empty'],
  ['kubernetes:\n  namespace: Vigil_NS', 'vigil.yaml: kubernetes.namespace: expected a Kubernetes namespace name (lower-case letters, digits and dashes), got "Vigil_NS"'],
  ['shutdown:\n  gracePeriod: -1s', 'vigil.yaml: shutdown.gracePeriod: expected a duration such as "30s" or "5m", got "-1s"'],
  ['- a\n- b', 'vigil.yaml: expected a mapping at the top level, got a list'],
  ['web: {listenAddress: ":1"', 'vigil.yaml:1:26: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }'],
  ['a: 1\na: 2', 'vigil.yaml:2:1: invalid YAML: Map keys must be unique'],
  ['probes: 3', 'vigil.yaml: probes: expected a mapping, got number 3'],
  ['unknownTop: 1', 'vigil.yaml: unknown key "unknownTop"'],
  ['probes:\n  etcd2: {}\n  dns2: {}', `vigil.yaml: probes: unknown probes "etcd2", "dns2" (known probes: ${KNOWN})`],
];

describe('bad configs', () => {
  for (const [text, message] of BAD) {
    it(message, () => {
      assert.deepEqual(problems(text), [message]);
    });
  }
});
