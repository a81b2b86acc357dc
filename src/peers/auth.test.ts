import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readToken, tokenMatches } from './auth.ts';

const TOKEN = 'a-shared-token-of-32-characters!';

void describe('peer token', () => {
  void it('accepts exactly the bearer token', () => {
    assert.equal(tokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
    assert.equal(tokenMatches(`bearer ${TOKEN}`, TOKEN), true);
    for (const bad of [undefined, '', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, `Bearer  ${TOKEN}`, 'Bearer ']) {
      assert.equal(tokenMatches(bad, TOKEN), false, String(bad));
    }
  });

  void it('reads the token file, trimmed, and names what is wrong with it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-token-'));
    try {
      const f = path.join(dir, 'token');
      writeFileSync(f, `${TOKEN}\n`);
      assert.equal(readToken(f), TOKEN);
      writeFileSync(f, 'short\n');
      const fix = '; put a random one in the Secret (openssl rand -hex 32)';
      assert.throws(() => readToken(f), { message: `the peer token in ${f} is shorter than 16 characters${fix}` });
      writeFileSync(f, '\n');
      assert.throws(() => readToken(f), { message: `the peer token in ${f} is empty${fix}` });
      // The value committed in deploy/base/secret.yaml, and its kin, are refused whatever their length.
      for (const placeholder of ['replace-me-with-a-random-token', 'CHANGEME-CHANGEME-CHANGEME', 'my-placeholder-token-value']) {
        writeFileSync(f, `${placeholder}\n`);
        assert.throws(() => readToken(f), { message: `the peer token in ${f} is the placeholder "${placeholder}"${fix}` });
      }
      assert.throws(() => readToken(path.join(dir, 'missing')), { message: `cannot read the peer token file ${path.join(dir, 'missing')}: no such file` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
