import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { statusCommand } from './status.ts';

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => new Promise((r) => s.close(() => r())) };
}

async function run(url: string, extra: Partial<Parameters<typeof statusCommand>[0]> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: '', err: '' };
  out.on('data', (d: Buffer) => (chunks.out += d.toString()));
  err.on('data', (d: Buffer) => (chunks.err += d.toString()));
  const code = await statusCommand({ url, timeoutMs: 2000, ...extra }, out, err);
  return { code, ...chunks };
}

void describe('vigil status', () => {
  void it('exits 2 and says so when no agent answers', async () => {
    const s = await serve(() => undefined);
    const url = s.url;
    await s.close();
    const r = await run(url);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot get http:\/\/127\.0\.0\.1:\d+\/api\/v1\/status: ECONNREFUSED; cluster state undetermined/);
  });

  void it('exits 2 on an answer that is not a status', async () => {
    const s = await serve((_req, res) => res.end('{"hello":1}'));
    try {
      const r = await run(s.url);
      assert.equal(r.code, 2);
      assert.match(r.err, /did not answer with a cluster status/);
    } finally {
      await s.close();
    }
  });

  void it("prints the local view with --local and exits by the node's verdict", async () => {
    const s = await serve((req, res) => {
      assert.equal(req.url, '/api/v1/status/local');
      res.end(
        JSON.stringify({
          node: 'a',
          verdict: 'warning',
          time: 't',
          probes: [{ name: 'node', verdict: 'warning', since: 's', message: 'disk 85%' }],
          peers: [{ peer: 'b', network: 'pod', up: false, rttSeconds: null, clockOffsetSeconds: null, lastChecked: 't', error: 'timeout after 2000 ms' }],
        }),
      );
    });
    try {
      const r = await run(s.url, { local: true });
      assert.equal(r.code, 1);
      assert.match(r.out, /^node a: warning/);
      assert.match(r.out, /^node +warning +s +disk 85%$/m);
      assert.match(r.out, /^b +pod +down +- +- +timeout after 2000 ms$/m);
    } finally {
      await s.close();
    }
  });
});
