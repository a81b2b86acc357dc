import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { builtinProbes } from '../index.ts';

const load = (etcd: Record<string, unknown>) => loadConfig({ probes: builtinProbes, file: { name: 'vigil.yaml', text: stringify({ probes: { etcd } }) } });

test('the etcd probe is off by default and needs only enabled: true on a stacked control-plane node', () => {
  assert.equal(loadConfig({ probes: builtinProbes }).probes.etcd!.enabled, false);
  const p = load({ enabled: true }).probes.etcd!;
  assert.deepEqual(p.endpoints, ['127.0.0.1:2379']);
  assert.deepEqual(p.writeLatency, { warning: 100, critical: 250 });
  assert.equal(p.leaseTTL, 60_000);
  assert.equal(p.interval, 10_000);
  assert.equal(p.timeout, 8_000);
});

test('a full etcd section with the kubeadm certificate paths loads', () => {
  const p = load({
    enabled: true,
    endpoints: ['10.0.0.1:2379', '[fd00::2]:2379', 'etcd-2.example:2379'],
    tls: { caFile: '/etc/kubernetes/pki/etcd/ca.crt', certFile: '/etc/kubernetes/pki/etcd/healthcheck-client.crt', keyFile: '/etc/kubernetes/pki/etcd/healthcheck-client.key' },
    auth: { username: 'vigil', passwordFile: '/etc/vigil/etcd-password' },
    prefix: '/health/vigil/',
    writeLatency: { warning: '50ms', critical: '1s' },
    requestTimeout: '1500ms',
    leaseTTL: '30s',
  }).probes.etcd!;
  assert.deepEqual(p.writeLatency, { warning: 50, critical: 1000 });
  assert.equal(p.requestTimeout, 1500);
});

test('bad etcd sections: each message names the key and what was expected', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ endpoints: [] }, 'vigil.yaml: probes.etcd.endpoints: must name at least one endpoint'],
    [{ endpoints: ['https://10.0.0.1:2379'] }, 'vigil.yaml: probes.etcd.endpoints[0]: expected host:port such as 127.0.0.1:2379, without a scheme (the tls section turns TLS on), got "https://10.0.0.1:2379"'],
    [{ endpoints: ['10.0.0.1:70000'] }, 'vigil.yaml: probes.etcd.endpoints[0]: expected host:port such as 127.0.0.1:2379, without a scheme (the tls section turns TLS on), got "10.0.0.1:70000"'],
    [{ endpoints: ['a:1', 'a:1'] }, 'vigil.yaml: probes.etcd.endpoints: must not repeat an endpoint'],
    [{ prefix: 'vigil/' }, 'vigil.yaml: probes.etcd.prefix: must start and end with "/" and not be "/" alone'],
    [{ prefix: '/' }, 'vigil.yaml: probes.etcd.prefix: must start and end with "/" and not be "/" alone'],
    [{ tls: { certFile: '/a.crt' } }, 'vigil.yaml: probes.etcd.tls.keyFile: certFile and keyFile go together'],
    [{ tls: { caFile: 'ca.crt' } }, 'vigil.yaml: probes.etcd.tls.caFile: must be an absolute path'],
    [{ auth: { username: 'u' } }, 'vigil.yaml: probes.etcd.auth.password: give exactly one of password and passwordFile'],
    [{ auth: { username: 'u', password: 'p', passwordFile: '/p' } }, 'vigil.yaml: probes.etcd.auth.password: give exactly one of password and passwordFile'],
    [{ writeLatency: { warning: '1s', critical: '500ms' } }, 'vigil.yaml: probes.etcd.writeLatency.warning: warning must be below critical'],
    [{ leaseTTL: '1s' }, 'vigil.yaml: probes.etcd.leaseTTL: must be at least 2s, got "1s"'],
    [{ requestTimeout: 'soon' }, 'vigil.yaml: probes.etcd.requestTimeout: expected a duration such as "30s" or "5m", got "soon"'],
    [{ endpoint: 'a:1' }, 'vigil.yaml: probes.etcd: unknown key "endpoint"'],
  ];
  for (const [section, message] of cases) {
    assert.throws(
      () => load({ enabled: true, ...section }),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 1 && e.problems[0] === message,
      `${JSON.stringify(section)} → ${message}`,
    );
  }
});
