import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress, parseHostPort, parseIpAddress, parseListenAddress } from './address.ts';

void test('one parser reads every address form the config uses', () => {
  assert.deepEqual(parseAddress('10.0.0.1:53'), { host: '10.0.0.1', port: 53 });
  assert.deepEqual(parseAddress('[fd00::1]:53'), { host: 'fd00::1', port: 53 });
  assert.deepEqual(parseAddress('[fd00::1]'), { host: 'fd00::1', port: undefined });
  assert.deepEqual(parseAddress('fd00::1'), { host: 'fd00::1', port: undefined });
  assert.deepEqual(parseAddress(':10924'), { host: '', port: 10924 });
  assert.deepEqual(parseAddress('etcd-0.example:2379'), { host: 'etcd-0.example', port: 2379 });
  for (const bad of ['10.0.0.1:65536', '[not-v6]:1', '[10.0.0.1]:1', 'a b:1', '10.0.0.1:', 'x:1:2', '10.0.0.1:123456']) assert.equal(parseAddress(bad), undefined, bad);
});

void test('each field requires its own parts', () => {
  const table: [string, ReturnType<typeof parseListenAddress>, ReturnType<typeof parseIpAddress>, ReturnType<typeof parseHostPort>][] = [
    [':10924', { host: undefined, port: 10924 }, undefined, undefined],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }, undefined, undefined],
    ['127.0.0.1:2379', { host: '127.0.0.1', port: 2379 }, { ip: '127.0.0.1', port: 2379 }, { host: '127.0.0.1', port: 2379 }],
    ['[::1]:2379', { host: '::1', port: 2379 }, { ip: '::1', port: 2379 }, { host: '::1', port: 2379 }],
    ['10.0.0.1', undefined, { ip: '10.0.0.1', port: undefined }, undefined],
    ['fd00::a', undefined, { ip: 'fd00::a', port: undefined }, undefined],
    ['localhost:2379', { host: 'localhost', port: 2379 }, undefined, { host: 'localhost', port: 2379 }],
    ['etcd_0:2379', { host: 'etcd_0', port: 2379 }, undefined, undefined],
    ['https://x:1', undefined, undefined, undefined],
  ];
  for (const [text, listen, ip, hostPort] of table) {
    assert.deepEqual(parseListenAddress(text), listen, `listen ${text}`);
    assert.deepEqual(parseIpAddress(text), ip, `ip ${text}`);
    assert.deepEqual(parseHostPort(text), hostPort, `host:port ${text}`);
  }
});
