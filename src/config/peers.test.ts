import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.ts';
import { builtinProbes } from '../probes/index.ts';

function problems(yaml: string): string[] {
  try {
    loadConfig({ probes: builtinProbes, file: { name: 'vigil.yaml', text: yaml } });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

void describe('the peers config section', () => {
  void it('has working defaults', () => {
    const c = loadConfig({ probes: builtinProbes });
    assert.deepEqual(c.peers.discovery, []);
    assert.equal(c.peers.k, 10);
    assert.equal(c.peers.interval, 10_000);
    assert.equal(c.peers.clockOffsetThreshold, 300);
    assert.equal(c.peers.fanout.timeout, 1000);
    assert.deepEqual([c.peers.fanout.relayAbove, c.peers.fanout.groupSize], [250, 50]);
  });

  const cases: [string, string][] = [
    ['peers: {discovery: [gossip]}', 'vigil.yaml: peers.discovery[0]: expected one of "kubernetes", "static", "dns", got "gossip"'],
    ['peers: {discovery: [static]}', 'vigil.yaml: peers.static: must list at least one peer when discovery includes "static"'],
    ['peers: {discovery: [dns]}', 'vigil.yaml: peers.dns.name: is required when discovery includes "dns"'],
    ['peers: {static: [{node: a, pod: "198.18.0.300"}]}', 'vigil.yaml: peers.static[0].pod: expected an IP address with an optional :port, got "198.18.0.300"'],
    ['peers: {static: [{node: a, pod: "198.18.0.1:99999"}]}', 'vigil.yaml: peers.static[0].pod: expected an IP address with an optional :port, got "198.18.0.1:99999"'],
    ['peers: {static: [{node: a, pod: "198.18.0.1"}, {node: a, pod: "198.18.0.2"}]}', 'vigil.yaml: peers.static[1].node: names node "a" twice'],
    ['peers: {k: 0}', 'vigil.yaml: peers.k: must be at least 1'],
    ['peers: {interval: 1s, timeout: 2s}', 'vigil.yaml: peers.timeout: must be at most 900ms, 90 % of the interval (1s): a run may start 10 % early, and the one before must be over by then; got 2s'],
    ['peers: {interval: 1s, timeout: 950ms}', 'vigil.yaml: peers.timeout: must be at most 900ms, 90 % of the interval (1s): a run may start 10 % early, and the one before must be over by then; got 950ms'],
    ['peers: {hostPort: 0}', 'vigil.yaml: peers.hostPort: must be a port from 1 to 65535'],
    ['peers: {clockOffsetThreshold: soon}', 'vigil.yaml: peers.clockOffsetThreshold: expected a duration such as "30s" or "5m", got "soon"'],
    ['peers: {fanout: {concurrency: 1000}}', 'vigil.yaml: peers.fanout.concurrency: must be at most 256'],
    ['peers: {fanout: {groupSize: 1}}', 'vigil.yaml: peers.fanout.groupSize: must be at least 2'],
    ['peers: {fanout: {groupSize: 300}}', 'vigil.yaml: peers.fanout.groupSize: must be at most 256'],
    ['peers: {fanout: {relayAbove: -1}}', 'vigil.yaml: peers.fanout.relayAbove: must be 0 or more'],
    ['peers: {tokenfile: /x}', 'vigil.yaml: peers: unknown key "tokenfile"'],
  ];
  for (const [yaml, message] of cases) {
    void it(`rejects ${yaml}`, () => assert.deepEqual(problems(yaml), [message]));
  }

  void it('accepts IPv4 and IPv6 peers with and without ports', () => {
    assert.deepEqual(problems('peers: {discovery: [static], static: [{node: a, pod: "198.18.0.1"}, {node: b, pod: "198.18.0.2:10924", host: "[2001:db8::1]:10925"}, {node: c, pod: "2001:db8::2"}]}'), []);
  });
});
