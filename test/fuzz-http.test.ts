import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { Fuzz, uriEncode } from './support/fuzz.ts';
import { parseRaw, rawExchange } from './support/raw-http.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';

const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261125);
const CASES = 3000;
const AUTH = `Basic ${Buffer.from('prometheus:s3cret').toString('base64')}`;

/** The endpoints an agent serves; every one is fuzzed, with the parameters it knows and others. */
const ENDPOINTS = ['/metrics', '/healthz', '/readyz', '/', '/api/v1/status/local', '/api/v1/history/local', '/api/v1/status', '/api/v1/status/relay', '/api/v1/history', '/api/v1/ping'];
const PARAMS = ['since', 'until', 'probe', 'limit', 'cursor', 'node', 'network', 'members', 'timeout', 'detail', 'gather'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Percent-encodes most of the time, but also sends broken escapes and raw reserved characters. */
function encode(f: Fuzz, text: string): string {
  const k = f.int(10);
  if (k === 0) return f.pick(['%', '%z', '%zz', '%E0%A4', '%C0%AF', '%00', '%ff%fe', '%%', '%u0041', '%2', '+%+']);
  if (k === 1) return text.replace(/[^\x21-\x7e]/g, '').replace(/[#?]/g, '');
  return uriEncode(text);
}

function makeCase(f: Fuzz): Case {
  const method = f.pick(METHODS);
  let p = f.bool(0.9) ? f.pick(ENDPOINTS) : `/${encode(f, f.string(30))}`;
  if (f.bool(0.1)) p += `/${encode(f, f.string(10))}`;
  const query: string[] = [];
  for (let i = f.int(6); i > 0; i--) {
    const key = f.bool(0.8) ? f.pick(PARAMS) : encode(f, f.string(10));
    const value = encode(f, f.bool(0.5) ? String(f.value(0)) : f.string(30));
    query.push(f.bool(0.1) ? key : f.bool(0.05) ? `${key}[]=${value}` : `${key}=${value}`);
  }
  if (query.length > 0) p += `?${query.join('&')}`;
  const headers: Record<string, string> = {};
  const auth = f.int(10);
  if (auth < 7) headers.authorization = AUTH;
  else if (auth === 7) headers.authorization = `Basic ${f.bytes(40).toString('base64')}`;
  else if (auth === 8) headers.authorization = f.string(30).replace(/[^\x20-\x7e]/g, '');
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD' && f.bool(0.6)) {
    body = f.bool() ? Buffer.from(JSON.stringify(f.value(4))) : f.bytes(2000);
    headers['content-type'] = f.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', f.string(20).replace(/[^\x20-\x7e]/g, '')]);
  }
  if (f.bool(0.05)) headers.accept = f.pick(['application/json', 'text/html', '*/*', 'application/openmetrics-text; version=1.0.0', f.string(20).replace(/[^\x20-\x7e]/g, '')]);
  return { method, path: p, headers, body };
}

function send(port: number, agent: http.Agent, c: Case): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: c.method, path: c.path, headers: c.headers, agent, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end(c.body);
  });
}

/** A 4xx answer must be a JSON error without internals; nothing may be a 5xx. */
function assertCleanAnswer(where: string, method: string, r: { status: number; type: string | undefined; body: string }): void {
  assert.ok(r.status < 500, `${where}: answered ${r.status}: ${r.body.slice(0, 300)}`);
  assert.ok(!/\n\s+at |node_modules|\/src\//.test(r.body), `${where}: internals in the answer: ${r.body.slice(0, 300)}`);
  if (r.status >= 400 && method !== 'HEAD') {
    assert.match(r.type ?? '', /^application\/json/, `${where}: a ${r.status} answer of type ${r.type}: ${r.body.slice(0, 200)}`);
    const parsed = JSON.parse(r.body) as { error?: unknown };
    assert.equal(typeof parsed.error, 'string', `${where}: ${r.body.slice(0, 200)}`);
  }
}

void describe(`HTTP endpoints under hostile requests (seed ${SEED})`, () => {
  let dir: string;
  let agent: LocalAgent;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-fuzz-'));
    writeFileSync(path.join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 4)}\n`);
    agent = await startLocalAgent(`web:\n  configFile: ${path.join(dir, 'web.yml')}\n  limits:\n    headerTimeout: 1s\n    requestTimeout: 2s\n    idleTimeout: 1s\nprobes:\n  node:\n    interval: 1s\n`);
  });
  after(async () => {
    await agent?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  void test(`${CASES} generated requests: every answer is a success or a clean 4xx JSON error`, async () => {
    const f = new Fuzz(SEED);
    const cases = Array.from({ length: CASES }, () => makeCase(f));
    const pool = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const counts = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i]!;
        const where = `seed ${SEED} case ${i}: ${c.method} ${c.path.slice(0, 200)}`;
        const r = await send(agent.port, pool, c).catch((err: Error) => assert.fail(`${where}: ${err.message}`));
        assertCleanAnswer(where, c.method, r);
        counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      }
    };
    try {
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      pool.destroy();
    }
    // The generator must reach both the handlers and the error paths.
    assert.ok((counts.get(200) ?? 0) > CASES / 10, `statuses: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get(400) ?? 0) > CASES / 20, `statuses: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get(401) ?? 0) > 0 && (counts.get(404) ?? 0) > 0, `statuses: ${JSON.stringify([...counts])}`);
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  });

  void test('300 raw byte streams: a JSON 4xx or a success, never a crash', async () => {
    const f = new Fuzz(SEED + 1);
    const payloads = Array.from({ length: 300 }, () => {
      const k = f.int(4);
      return k === 0
        ? f.bytes(300)
        : k === 1
          ? Buffer.from(`${f.pick(METHODS)} ${f.pick(ENDPOINTS)}${f.string(40)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`, 'latin1')
          : k === 2
            ? Buffer.from(`GET /metrics HTTP/1.1\r\n${f.string(60)}: ${f.string(60)}\r\nContent-Length: ${f.pick(['-1', 'abc', '99999999999999999999', '1, 2', ''])}\r\n\r\n`, 'latin1')
            : Buffer.from(`GET /api/v1/history/local HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nAuthorization: ${AUTH}\r\n\r\n${f.pick(['zz', '-1', 'ffffffffffffffff', '5'])}\r\n${f.string(20)}\r\n0\r\n\r\n`, 'latin1');
    });
    // Incomplete requests wait for the header timeout (1 s here): send them 30 at a time.
    for (let start = 0; start < payloads.length; start += 30) {
      await Promise.all(
        payloads.slice(start, start + 30).map(async (payload, j) => {
          const where = `seed ${SEED + 1} raw case ${start + j}: ${JSON.stringify(payload.toString('latin1').slice(0, 120))}`;
          const r = await rawExchange(agent.port, payload, { timeoutMs: 10_000 });
          assert.ok(r.closed || r.text !== '', `${where}: neither an answer nor a close within 10 s`);
          if (r.text === '') return;
          const answer = parseRaw(r.text.split(/(?=HTTP\/1\.1 \d{3} )/)[0]!);
          assert.ok(answer.status < 500, `${where}: ${r.text.slice(0, 300)}`);
          if (answer.status >= 400 && !payload.subarray(0, 5).equals(Buffer.from('HEAD '))) {
            assert.equal(typeof (answer.body as { error?: unknown } | undefined)?.error, 'string', `${where}: ${r.text.slice(0, 300)}`);
          }
        }),
      );
    }
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  });
});
