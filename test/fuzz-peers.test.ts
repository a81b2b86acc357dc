import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PeerClient, PeerError, httpTransport } from '../src/peers/client.ts';
import { historyAnswer, localStatusAnswer, pingAnswer } from '../src/peers/wire.ts';
import { decodeCursor } from '../src/status/history-merge.ts';
import { Fuzz, uriEncode } from './support/fuzz.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';

const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261125);

/** A plausible answer of each kind, for mutation. */
const SAMPLES = [
  { node: 'peer', time: 1764000000000, hostIP: '198.18.0.2' },
  {
    node: 'peer', verdict: 'ok', time: '2026-11-25T13:00:00.000Z',
    probes: [{ name: 'etcd', verdict: 'ok', reason: null, message: 'fine', since: '2026-11-25T12:00:00.000Z', lastRun: '2026-11-25T13:00:00.000Z', durationSeconds: 0.01, skipped: false, observations: { 'put p50 ms': 3 } }],
    peers: [{ peer: 'other', network: 'pod', up: true, rttSeconds: 0.001, clockOffsetSeconds: 0, lastChecked: '2026-11-25T13:00:00.000Z', error: null }],
  },
  { node: 'peer', events: [{ id: 3, time: '2026-11-25T13:00:00.000Z', probe: 'etcd', from: 'ok', to: 'critical', reason: 'timeout', message: 'slow' }], next: '2' },
];

/** What a broken or hostile peer might send: mutated answers, wrong types, deep nesting, garbage, huge bodies. */
function hostileBody(f: Fuzz): { status: number; body: Buffer; type: string } {
  const status = f.bool(0.8) ? 200 : f.pick([201, 204, 301, 400, 401, 404, 500, 503]);
  const type = f.pick(['application/json', 'text/html', 'application/octet-stream', '']);
  const k = f.int(7);
  let body: string | Buffer;
  if (k === 0) body = f.mutate(JSON.stringify(f.pick(SAMPLES)));
  else if (k === 1) body = JSON.stringify(replaceDeep(f, structuredClone(f.pick(SAMPLES))));
  else if (k === 2) body = `${'['.repeat(f.pick([100, 10_000, 100_000]))}${']'.repeat(f.int(2) * 100_000)}`;
  else if (k === 3) body = f.bytes(2000);
  else if (k === 4) body = JSON.stringify(f.value(5));
  else if (k === 5) body = JSON.stringify({ ...f.pick(SAMPLES), __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } });
  else body = `{"node":"${'x'.repeat(f.pick([1000, 70_000, 300_000]))}"}`;
  return { status, body: Buffer.isBuffer(body) ? body : Buffer.from(body), type };
}

/** Replaces one value somewhere in the object with a value of another type. */
function replaceDeep(f: Fuzz, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || f.bool(0.3)) return f.value(2);
  const keys = Object.keys(v);
  if (keys.length === 0) return v;
  const key = f.pick(keys);
  (v as Record<string, unknown>)[key] = replaceDeep(f, (v as Record<string, unknown>)[key]);
  return v;
}

void describe(`peer answers and parameters under fuzzing (seed ${SEED})`, () => {
  let server: http.Server;
  let base: string;
  let next: () => { status: number; body: Buffer; type: string };
  before(async () => {
    server = http.createServer((_req, res) => {
      const a = next();
      res.writeHead(a.status, a.type ? { 'content-type': a.type } : {});
      res.end(a.status === 204 ? undefined : a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  void test('2000 hostile answers: the peer client returns a checked value or a PeerError, nothing else', async () => {
    const f = new Fuzz(SEED);
    next = () => hostileBody(f);
    const client = new PeerClient({ transport: httpTransport(), maxBytes: 65_536 });
    const schemas = [pingAnswer, localStatusAnswer, historyAnswer];
    const kinds = new Map<string, number>();
    try {
      for (let i = 0; i < 2000; i++) {
        const schema = schemas[i % 3]!;
        try {
          await client.get(base, '/api/v1/status/local', schema, { timeoutMs: 5000 });
          kinds.set('ok', (kinds.get('ok') ?? 0) + 1);
        } catch (err) {
          assert.ok(err instanceof PeerError, `seed ${SEED} case ${i}: threw ${String(err)}`);
          assert.ok(err.message.length < 1000 && !err.message.includes('\n    at '), `seed ${SEED} case ${i}: ${err.message.slice(0, 300)}`);
          kinds.set(err.kind, (kinds.get(err.kind) ?? 0) + 1);
        }
      }
    } finally {
      client.close();
    }
    assert.ok((kinds.get('bad') ?? 0) > 500 && (kinds.get('http') ?? 0) > 100 && (kinds.get('ok') ?? 0) > 0, JSON.stringify([...kinds]));
  });

  void test('history cursors: any text decodes to a cursor or to nothing, never a throw', () => {
    const f = new Fuzz(SEED + 1);
    for (let i = 0; i < 3000; i++) {
      const k = f.int(3);
      const text = k === 0 ? f.string(60) : k === 1 ? Buffer.from(JSON.stringify(f.value(3))).toString('base64url') : Buffer.from(f.mutate(JSON.stringify({ a: 3, b: null }))).toString('base64url');
      const c = decodeCursor(text);
      if (c !== undefined) for (const v of Object.values(c)) assert.ok(v === null || (Number.isSafeInteger(v) && v > 0), `case ${i}: ${text}`);
    }
  });

  void describe('an agent whose peer answers garbage', () => {
    let agent: LocalAgent;
    before(async () => {
      const f = new Fuzz(SEED + 2);
      next = () => hostileBody(f);
      agent = await startLocalAgent(
        `probes:\n  node:\n    enabled: false\npeers:\n  discovery: [static]\n  static:\n    - node: hostile\n      pod: "127.0.0.1:${new URL(base).port}"\n  interval: 1s\n  timeout: 500ms\n  fanout:\n    timeout: 500ms\n  maxResponseBytes: 65536\n`,
      );
    });
    after(async () => agent?.dispose());

    void test('300 cluster status and history requests: every answer is 200 or a clean 4xx, the garbage never taken', async () => {
      const f = new Fuzz(SEED + 3);
      for (let i = 0; i < 300; i++) {
        const p = f.bool()
          ? '/api/v1/status'
          : `/api/v1/history?${f.bool() ? `cursor=${uriEncode(f.bool() ? f.string(30) : Buffer.from(JSON.stringify(f.value(2))).toString('base64url'))}&` : ''}${f.bool() ? `node=${uriEncode(f.string(20))}&` : ''}limit=${f.pick(['1', '10', '1000', '0', 'x'])}`;
        const res = await fetch(`${agent.url}${p}`);
        const body = (await res.json()) as { error?: string; nodes?: { name: string; answered: boolean }[] };
        assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `case ${i}: ${p.slice(0, 200)}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        if (res.status === 200 && p === '/api/v1/status') assert.equal(body.nodes?.find((n) => n.name === 'hostile')?.answered === true, false, `case ${i}: a garbage answer was taken`);
        if (res.status !== 200) assert.equal(typeof body.error, 'string');
      }
      assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
    });
  });
});
