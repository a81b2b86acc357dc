import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientCertAccepted } from './tls.ts';
import type { ClientAuthType } from './web-config.ts';

void test('client certificate policies, as Go names them', () => {
  const none = { presented: false, verified: false };
  const unverified = { presented: true, verified: false };
  const verified = { presented: true, verified: true };
  const table: [ClientAuthType, boolean, boolean, boolean][] = [
    // policy, no cert, unverified cert, verified cert
    ['NoClientCert', true, true, true],
    ['RequestClientCert', true, true, true],
    ['RequireAnyClientCert', false, true, true],
    ['VerifyClientCertIfGiven', true, false, true],
    ['RequireAndVerifyClientCert', false, false, true],
  ];
  for (const [policy, a, b, c] of table) {
    assert.deepEqual([clientCertAccepted(policy, none), clientCertAccepted(policy, unverified), clientCertAccepted(policy, verified)], [a, b, c], policy);
  }
});
