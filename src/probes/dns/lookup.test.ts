import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyDnsError } from './lookup.ts';

void test("node:dns error codes map onto the probe's reasons", () => {
  const table: [string | undefined, string][] = [
    ['ENOTFOUND', 'nxdomain'],
    ['ENODATA', 'no-answer'],
    ['ESERVFAIL', 'servfail'],
    ['EREFUSED', 'refused'],
    ['ECONNREFUSED', 'refused'],
    ['ETIMEOUT', 'timeout'],
    ['EBADRESP', 'dns-error'],
    [undefined, 'dns-error'],
  ];
  for (const [code, reason] of table) assert.equal(classifyDnsError(code).reason, reason, String(code));
  assert.equal(classifyDnsError('EBADRESP').text, 'lookup failed (EBADRESP)');
});
