import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PeerClient, PeerError, httpTransport } from '../src/peers/client.ts';
import { historyAnswer, localStatusAnswer, pingAnswer, type WireSchema } from '../src/peers/wire.ts';
import { localStatusCheck } from '../src/peers/status-check.ts';
import { decodeCursor } from '../src/status/history-merge.ts';
import { Fuzz, uriEncode } from './support/fuzz.ts';
import { startLocalAgent, type LocalAgent } from './support/local-agent.ts';

const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261125);

/** A plausible answer of each kind, for mutation. */
const SAMPLES = [
  { node: 'peer', time: 1764000000000, hostIP: '198.18.0.2' },
  {
    node: 'peer',
    verdict: 'ok',
    time: '2026-11-25T13:00:00.000Z',
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

/**
 * A status answer that fits the declaration or falls just outside it: strings at their length
 * limits and one past, optional keys present, absent or null, the array limits, negative round
 * trips, observation values of every kind, undeclared keys, and a "__proto__" key as JSON.parse
 * makes it (an own property).
 */
function statusVariant(f: Fuzz): unknown {
  // mostly within the declaration, so that answers it accepts are common; each limit is crossed now and then
  const rarely = (p = 0.02) => f.bool(p);
  const len = (max: number) => (rarely() ? f.pick([0, max + 1]) : f.pick([1, 2, max - 1, max]));
  const s = (max: number) => 'x'.repeat(len(max));
  const time = () => (f.bool(0.8) ? '2026-11-25T13:00:00.000Z' : s(40));
  const maybe = <T>(v: () => T) => (f.bool(0.15) ? null : v());
  const observations = () => {
    const o: Record<string, unknown> = {};
    for (let i = f.int(4); i > 0; i--) o[f.bool(0.9) ? `k${i}` : s(200)] = f.pick<unknown>([1.5, -3, 0, 'text', s(500), true, false, null, [], {}]);
    return o;
  };
  // facts: JSON nested up to four levels below their keys (one more than allowed, now and then), arrays around the 64 limit
  const fact = (depth: number): unknown => {
    const k = f.int(depth > 0 ? 4 : 1);
    if (k === 0) return f.pick<unknown>([1.5, -3, 0, 'text', s(500), true, false, null]);
    if (k === 1) return Array.from({ length: rarely(0.05) ? f.pick([64, 65]) : f.int(3) }, () => fact(depth - 1));
    const o: Record<string, unknown> = {};
    for (let i = f.int(3); i > 0; i--) o[f.bool(0.9) ? `f${i}` : s(200)] = fact(depth - 1);
    return o;
  };
  const facts = () => {
    const o: Record<string, unknown> = {};
    for (let i = f.int(3); i > 0; i--) o[`k${i}`] = fact(rarely(0.1) ? 4 : 3);
    return o;
  };
  const probe = () => {
    const p: Record<string, unknown> = {
      name: s(63),
      verdict: rarely() ? 'fine' : f.pick(['ok', 'warning', 'critical', 'unknown']),
      reason: maybe(() => s(63)),
      message: s(2000),
      since: maybe(time),
      lastRun: maybe(time),
      durationSeconds: maybe(() => f.pick([0, 0.25, -1, 1e9])),
      skipped: f.bool(),
      observations: maybe(observations),
    };
    if (f.bool()) p.facts = rarely() ? f.pick<unknown>(['x', [], 3]) : maybe(facts);
    return p;
  };
  const observation = () => {
    const o: Record<string, unknown> = {
      peer: s(253),
      network: rarely() ? 'node' : f.pick(['pod', 'host']),
      up: f.bool(),
      rttSeconds: maybe(() => (rarely() ? -0.001 : f.pick([0, 0.001, 2]))),
      clockOffsetSeconds: maybe(() => f.pick([0, -0.5, 0.5])),
      lastChecked: time(),
      error: maybe(() => s(500)),
    };
    if (f.bool()) o.since = f.bool(0.9) ? time() : null;
    if (f.bool()) o.failure = rarely() ? 'lost' : f.pick(['refused', 'timeout', 'unreachable', 'http', 'bad', null]);
    return o;
  };
  const answer: Record<string, unknown> = { node: s(253), verdict: rarely() ? 'bad' : f.pick(['ok', 'critical']), time: time(), probes: Array.from({ length: rarely(0.05) ? f.pick([200, 201]) : f.pick([0, 1, 3]) }, probe) };
  if (f.bool(0.8)) answer.peers = Array.from({ length: rarely(0.03) ? f.pick([2000, 2001]) : f.pick([0, 1, 5]) }, observation);
  if (f.bool(0.1)) answer.extra = { undeclared: true };
  const text = JSON.stringify(answer);
  // most variants differ from the sample in one place only, so both checks meet the same problem
  const proto = '"__proto__":{"polluted":true}';
  return JSON.parse(
    f.bool(0.1)
      ? text.replace('{', `{${proto},`)
      : f.bool(0.1)
        ? text.replaceAll('"observations":{}', `"observations":{${proto}}`).replaceAll('"observations":{"', `"observations":{${proto},"`).replaceAll('"f1":{}', `"f1":{${proto}}`).replaceAll('"f1":{"', `"f1":{${proto},"`)
        : text,
  );
}

void test('the hand-written status check accepts, rejects and returns exactly what its zod declaration does', () => {
  const f = new Fuzz(SEED + 3);
  const counts = { accepted: 0, rejected: 0 };
  for (let i = 0; i < 2000; i++) {
    const k = f.int(4);
    let input: unknown;
    if (k === 0) input = replaceDeep(f, structuredClone(SAMPLES[1]));
    else if (k === 1) {
      try {
        input = JSON.parse(f.mutate(JSON.stringify(SAMPLES[1])));
      } catch {
        continue;
      }
    } else if (k === 2) input = statusVariant(f);
    else input = f.bool(0.5) ? statusVariant(f) : f.value(4);
    const declared = localStatusAnswer.safeParse(input);
    const checked = localStatusCheck.safeParse(input);
    const what = () => `seed ${SEED + 3} case ${i}: ${JSON.stringify(input).slice(0, 400)}`;
    assert.equal(checked.success, declared.success, `${what()}\nzod: ${declared.success ? 'accepted' : JSON.stringify(declared.error.issues[0])}; hand: ${checked.success ? 'accepted' : JSON.stringify(checked.error.issues[0])}`);
    if (declared.success && checked.success) assert.deepEqual(checked.data, declared.data, what());
    counts[declared.success ? 'accepted' : 'rejected']++;
  }
  assert.ok(counts.accepted > 300 && counts.rejected > 300, JSON.stringify(counts));
  // nothing a peer sends reaches the prototype
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

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
    const schemas: WireSchema<unknown>[] = [pingAnswer, localStatusAnswer, localStatusCheck, historyAnswer];
    const kinds = new Map<string, number>();
    try {
      for (let i = 0; i < 2000; i++) {
        const schema = schemas[i % schemas.length]!;
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
