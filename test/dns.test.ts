// The dns probe against a real DNS server on loopback (UDP), through node:dns.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Registry } from 'prom-client';
import { dnsMetrics } from '../src/metrics/metrics.ts';
import { dnsCheck, systemResolver } from '../src/probes/dns/lookup.ts';
import { systemClock } from '../src/clock.ts';
import { TestDnsServer } from './support/dns-server.ts';
import { K8sProbeEnv, runProbe, sample } from './support/k8s-probe-env.ts';

let dns: TestDnsServer;
let env: K8sProbeEnv;
const SVC = 'kubernetes.default.svc.cluster.local';

before(async () => {
  dns = await TestDnsServer.start();
  env = await K8sProbeEnv.start();
});
after(async () => {
  await dns.stop();
  await env.stop();
});
beforeEach(() => {
  dns.answers.clear();
  dns.answers.set(SVC, { a: ['10.96.0.1'], aaaa: ['fd00::1'] });
});

const probe = (options: Record<string, unknown> = {}) => env.probe('n1', 'dns', { servers: [dns.address], lookupTimeout: '300ms', ...options });

void test('names resolve through the configured server; latency is recorded', async () => {
  dns.answers.set('other.example.test', { a: ['10.0.0.7', '10.0.0.8'] });
  const { probe: p, metrics } = probe({ names: [SVC, 'other.example.test'] });
  const r = await runProbe(p);
  assert.equal(r.verdict, 'ok', r.message);
  assert.equal(r.observations![SVC], '10.96.0.1');
  assert.equal(r.observations!['other.example.test'], '10.0.0.7,10.0.0.8');
  assert.match(r.message, /^kubernetes\.default\.svc\.cluster\.local resolved in \d+ ms, other\.example\.test resolved in \d+ ms$/);
  assert.equal(await sample(metrics, 'vigil_dns_lookup_duration_seconds_count'), 2);
  const v6 = await runProbe(probe({ type: 'AAAA' }).probe);
  assert.equal(v6.observations![SVC], 'fd00::1');
});

void test('NXDOMAIN, SERVFAIL, REFUSED and silence each get their own reason', async () => {
  const cases: [Parameters<TestDnsServer['answers']['set']>[1], string, RegExp][] = [
    [{ rcode: 'NXDOMAIN' }, 'nxdomain', /no such name \(NXDOMAIN\)/],
    [{ rcode: 'SERVFAIL' }, 'servfail', /the server failed to answer \(SERVFAIL\)/],
    [{ rcode: 'REFUSED' }, 'refused', /the server refused the query \(REFUSED\)/],
    [{ drop: true }, 'timeout', /no answer in time after \d+ ms/],
  ];
  for (const [answer, reason, text] of cases) {
    dns.answers.set(SVC, answer);
    const r = await runProbe(probe().probe);
    assert.equal(r.verdict, 'critical', reason);
    assert.equal(r.reason, reason);
    assert.match(r.message, new RegExp(`^${SVC.replaceAll('.', '\\.')} \\(A\\): ${text.source}`));
  }
});

void test('a name with no record of the asked type is no-answer; a slow answer is a warning', async () => {
  dns.answers.set(SVC, { aaaa: ['fd00::1'] });
  assert.equal((await runProbe(probe().probe)).reason, 'no-answer');
  dns.answers.set(SVC, { a: ['10.96.0.1'], delayMs: 120 });
  const slow = await runProbe(probe({ latencyWarning: '50ms' }).probe);
  assert.equal(slow.verdict, 'warning');
  assert.equal(slow.reason, 'slow');
  assert.match(slow.message, /resolved in \d+ ms \(warning above 50 ms\)$/);
});

void test('the resolver is injected: a run can be pointed anywhere and aborted mid-lookup', async () => {
  dns.answers.set(SVC, { drop: true });
  const metrics = dnsMetrics(new Registry());
  const resolve = systemResolver({ servers: [dns.address], timeoutMs: 5000 });
  const run = dnsCheck({ resolve, clock: systemClock, metrics }, { names: [SVC], type: 'A', latencyWarning: 250 }, AbortSignal.timeout(200));
  const t0 = Date.now();
  await assert.rejects(run, (err: Error) => err.name === 'TimeoutError');
  assert.ok(Date.now() - t0 < 2000, 'the abort ends the lookup long before its own timeout');
});

void test('bad servers are rejected at config load', async () => {
  const { loadConfig } = await import('../src/config/load.ts');
  const { builtinProbes } = await import('../src/probes/index.ts');
  assert.throws(
    () => loadConfig({ probes: builtinProbes, file: { name: 'v.yaml', text: env.configText('n1', { dns: { servers: ['dns.example'] } }) } }),
    /v\.yaml: probes\.dns\.servers\[0\]: expected an IP address with an optional port \("10\.96\.0\.10", "10\.96\.0\.10:53", "\[fd00::a\]:53"\), got "dns\.example"/,
  );
});
