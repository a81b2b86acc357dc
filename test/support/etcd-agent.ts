import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startAgent, type Agent } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { builtinProbes } from '../../src/probes/index.ts';
import { ProbeRegistry } from '../../src/probes/registry.ts';
import type { ProbeStatus } from '../../src/status/local.ts';

export interface EtcdAgent {
  agent: Agent;
  /** The etcd probe's entry in the agent's local status API. */
  etcdStatus(): Promise<ProbeStatus>;
  /** The agent's /metrics text, fetched over HTTP. */
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

/** The agent's config with only the etcd probe enabled, as YAML a person would write. */
export function etcdAgentConfig(etcd: Record<string, unknown>, opts: { storagePath: string; nodeName?: string; logLevel?: string }): string {
  return stringify({
    node: { name: opts.nodeName ?? 'test-node' },
    web: { listenAddress: '127.0.0.1:0' },
    storage: { path: opts.storagePath },
    log: { level: opts.logLevel ?? 'silent' },
    shutdown: { gracePeriod: '2s' },
    probes: { node: { enabled: false }, etcd: { enabled: true, interval: '1s', ...etcd } },
  });
}

/** A real agent, in this process, running the etcd probe with the given options. */
export async function startEtcdAgent(etcd: Record<string, unknown>): Promise<EtcdAgent> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-'));
  const config = loadConfig({ probes: builtinProbes, file: { name: 'test.yaml', text: etcdAgentConfig(etcd, { storagePath: dir }) } });
  let agent: Agent;
  try {
    agent = await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger: silentLogger() });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    agent,
    async etcdStatus() {
      const res = await fetch(`${agent.url}/api/v1/status/local`);
      const body = (await res.json()) as { probes: ProbeStatus[] };
      return body.probes.find((p) => p.name === 'etcd')!;
    },
    async scrape() {
      const res = await fetch(`${agent.url}/metrics`);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    async stop() {
      try {
        await agent.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The value of one sample in Prometheus text, or undefined; the labels must match exactly, in any order. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]);
    if (JSON.stringify(got.sort()) === want) return Number(m[3]);
  }
  return undefined;
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, describeLast?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeLast ? `; last seen: ${await describeLast()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The agent's first etcd verdict that a busy machine did not cut short: a run or a request that
 * ran out of time ("no result within", "no answer within") says nothing about TLS, auth or the
 * member, so the next run is waited for.
 */
export function settledVerdict(a: EtcdAgent, what = 'a verdict not cut short by a timeout', timeoutMs = 40_000): Promise<ProbeStatus> {
  let last: ProbeStatus | undefined;
  return waitFor(
    what,
    async () => {
      last = await a.etcdStatus();
      return last.verdict === 'unknown' || /no (result|answer) within/.test(last.message) ? undefined : last;
    },
    timeoutMs,
    () => JSON.stringify(last),
  );
}
