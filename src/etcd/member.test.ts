import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdAuthenticationFailedError, EtcdError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { classifyFailure } from './member.ts';

// Messages as grpc-js and etcd3 produce them against a real etcd (seen in test/etcd-*.test.ts).
test('a refused connection is "unreachable: connection refused"', () => {
  const err = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379 (2026-11-25T13:00:00.000Z)');
  assert.deepEqual(classifyFailure(err, 2000), { kind: 'unreachable', text: 'connection refused' });
});

test('a deadline is a timeout with the figure', () => {
  assert.deepEqual(classifyFailure(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'), 225), { kind: 'timeout', text: 'no answer within 225 ms' });
});

test('a server certificate from another CA says so, without the resolution note', () => {
  const err = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate. Resolution note: none (2026-11-25T13:00:00.000Z)');
  assert.deepEqual(classifyFailure(err, 2000), { kind: 'tls', text: 'TLS handshake failed: the server certificate is not signed by the configured CA (unable to verify the first certificate)' });
});

test("a client certificate etcd refuses says so, in OpenSSL's words too", () => {
  const err = new GRPCUnavailableError(
    '14 UNAVAILABLE: No connection established. Last error: 80FC4256BB7F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42',
  );
  assert.deepEqual(classifyFailure(err, 2000), { kind: 'tls', text: 'TLS handshake failed: etcd rejected the client certificate (sslv3 alert bad certificate)' });
});

test('a wrong password and a missing permission are "auth"', () => {
  assert.deepEqual(classifyFailure(new EtcdAuthenticationFailedError('etcdserver: authentication failed, invalid user ID or password'), 2000), {
    kind: 'auth',
    text: 'authentication failed: etcdserver: authentication failed, invalid user ID or password',
  });
  assert.equal(classifyFailure(new EtcdPermissionDeniedError('etcdserver: permission denied'), 2000).kind, 'auth');
});

test('anything else keeps its message as an error', () => {
  assert.deepEqual(classifyFailure(new EtcdError('etcdserver: mvcc: database space exceeded'), 2000), { kind: 'error', text: 'etcdserver: mvcc: database space exceeded' });
});
