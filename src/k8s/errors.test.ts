import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admissionDenial, describeApiError, missingPermission } from './errors.ts';

const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

void test('a 403 names the user, verb, resource and namespace that RBAC lacks', () => {
  const err = { code: 403, body: status(403, 'Forbidden', 'pods is forbidden: User "system:serviceaccount:vigil:vigil" cannot create resource "pods" in API group "" in the namespace "vigil"') };
  const f = describeApiError(err, 'create probe pod vigil/vigil-probe-a');
  assert.equal(f.reason, 'forbidden');
  assert.equal(
    f.message,
    'create probe pod vigil/vigil-probe-a: forbidden: system:serviceaccount:vigil:vigil may not create pods in namespace "vigil"; grant verb "create" on resource "pods" (API group "") in namespace "vigil" in vigil\'s RBAC',
  );
});

void test('cluster-scoped and grouped resources are named as such', () => {
  assert.deepEqual(missingPermission('nodes "a" is forbidden: User "u" cannot get resource "nodes" in API group "" at the cluster scope'), { user: 'u', verb: 'get', resource: 'nodes', group: '' });
  const f = describeApiError(
    { code: 403, body: status(403, 'Forbidden', 'leases.coordination.k8s.io "kube-scheduler" is forbidden: User "u" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"') },
    'read lease',
  );
  assert.match(f.message, /u may not get leases\.coordination\.k8s\.io in namespace "kube-system"/);
});

void test('a starting API server\'s "not yet ready" 403 is an API error, neither a missing permission nor an admission refusal', () => {
  const err = { code: 403, body: status(403, 'Forbidden', 'pods "vigil-probe-a" is forbidden: not yet ready to handle request') };
  assert.deepEqual(describeApiError(err, 'create probe pod vigil/vigil-probe-a'), {
    reason: 'api-error',
    code: 403,
    message: 'create probe pod vigil/vigil-probe-a: the API server is still starting (its admission has not synced yet): pods "vigil-probe-a" is forbidden: not yet ready to handle request',
  });
  assert.equal(admissionDenial(err), undefined);
  const podSecurity = { code: 403, body: status(403, 'Forbidden', 'pods "vigil-probe-a" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false') };
  assert.match(admissionDenial(podSecurity) ?? '', /violates PodSecurity/, "other 403s without the authorizer's phrase stay admission refusals");
});

void test('other statuses keep the code, the Status reason and its message', () => {
  assert.deepEqual(describeApiError({ code: 500, body: status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out') }, 'list pods'), {
    reason: 'api-error',
    code: 500,
    message: 'list pods: API server answered 500 InternalError: Internal error occurred: etcdserver: request timed out',
  });
  assert.equal(describeApiError({ code: 404, body: status(404, 'NotFound', 'nodes "x" not found') }, 'read node').reason, 'not-found');
  assert.equal(describeApiError({ code: 401, body: undefined }, 'list pods').reason, 'forbidden');
});

void test('connection failures say the API server cannot be reached, with the system error code', () => {
  const err = Object.assign(new Error('request to http://127.0.0.1:9/api/v1/nodes/a failed, reason: connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const f = describeApiError(err, 'read node a');
  assert.equal(f.reason, 'api-error');
  assert.match(f.message, /^read node a: cannot reach the API server: .*ECONNREFUSED 127\.0\.0\.1:9/);
});

void test('a 403 without a Status body (the watch client drops it) names the permission the call needed', () => {
  const err = Object.assign(new Error('Forbidden'), { statusCode: 403 });
  const f = describeApiError(err, 'watch probe pods in namespace vigil', { verb: 'watch', resource: 'pods', group: '', namespace: 'vigil' });
  assert.equal(f.reason, 'forbidden');
  assert.match(f.message, /^watch probe pods in namespace vigil: forbidden: vigil's service account may not watch pods in namespace "vigil"; grant verb "watch"/);
});
