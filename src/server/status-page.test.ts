import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import express from 'express';
import { statusPageHtml, statusPageRouter } from './status-page.ts';

async function serve(router: express.Router, fn: (url: string) => Promise<void>): Promise<void> {
  const app = express();
  app.use(router);
  app.get('/healthz', (_req, res) => {
    res.send('ok\n');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

void describe('status page route', () => {
  void it('escapes the node name in the page shell', () => {
    const html = statusPageHtml('<b>"x"</b>');
    assert.ok(!html.includes('<b>'));
    assert.match(html, /<title>vigil on &#60;b&#62;&#34;x&#34;&#60;\/b&#62;<\/title>/);
  });

  void it('serves its files with their types and a same-origin policy', async () => {
    await serve(statusPageRouter({ node: 'n1' }), async (url) => {
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      for (const [file, type] of [
        ['app.js', 'text/javascript'],
        ['api.js', 'text/javascript'],
        ['dom.js', 'text/javascript'],
        ['model.js', 'text/javascript'],
        ['style.css', 'text/css'],
      ]) {
        const r = await fetch(`${url}/ui/${file}`);
        assert.equal(r.status, 200, file);
        assert.match(r.headers.get('content-type') ?? '', new RegExp(`^${type}`), file);
      }
      assert.equal((await fetch(`${url}/ui/..%2Fstatus-page.ts`)).status, 404);
    });
  });

  void it('says which files are missing when a build left them out, and keeps the agent serving', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-page-empty-'));
    try {
      await serve(statusPageRouter({ node: 'n1', assetDir: pathToFileURL(`${dir}/`) }), async (url) => {
        const r = await fetch(`${url}/`);
        assert.equal(r.status, 500);
        assert.match(await r.text(), /^the status page's files are missing \(.*app\.js, .*api\.js, .*dom\.js, .*model\.js, .*style\.css\); the build copies them from src\/server\/page \(npm run build\)/);
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
