import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { builtinProbes } from '../../src/probes/index.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { createProbe, ProbeRegistry } from '../../src/probes/registry.ts';
import { lazyKubeClients } from '../../src/k8s/client.ts';
import { systemClock } from '../../src/clock.ts';
import { ApiSim, writeKubeconfig, type ApiSimOptions } from './apisim/index.ts';
import { makeCa, makeCert } from './tls-certs.ts';

/** A simulator, a kubeconfig for it and a temp dir: what the Kubernetes probe tests share per file. */
export class K8sProbeEnv {
  readonly sim: ApiSim;
  readonly dir: string;
  readonly kubeconfig: string;
  /** With `https`: the cluster CA that signed the simulator's certificate. */
  readonly caFile: string | undefined;

  private constructor(sim: ApiSim, dir: string, caFile: string | undefined) {
    this.sim = sim;
    this.dir = dir;
    this.caFile = caFile;
    this.kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token, ...(caFile ? { caFile } : {}) });
  }

  /** `https`: the simulator serves HTTPS with a certificate from a CA of its own, which the kubeconfig names (`caFile`). */
  static async start(opts: ApiSimOptions & { https?: boolean } = {}): Promise<K8sProbeEnv> {
    // The agent loads the client library on first use; loaded here, a cold import on a busy
    // machine is not counted against the first probe run's deadline.
    await import('@kubernetes/client-node');
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-k8s-'));
    try {
      const { https, ...simOpts } = opts;
      if (!https) return new K8sProbeEnv(await ApiSim.start(simOpts), dir, undefined);
      const ca = makeCa(dir, 'cluster-ca');
      const srv = makeCert(dir, 'apiserver', ca, 'kube-apiserver');
      return new K8sProbeEnv(await ApiSim.start({ ...simOpts, tls: { certFile: srv.cert, keyFile: srv.key } }), dir, ca.cert);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The YAML an agent would load, with the given probes enabled (and the node probe off). */
  configText(node: string, probes: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}, kubeconfig = this.kubeconfig): string {
    const sections = Object.fromEntries(Object.entries(probes).map(([name, options]) => [name, { enabled: true, ...options }]));
    return stringify({ node: { name: node }, kubernetes: { kubeconfig, namespace: 'vigil' }, probes: { node: { enabled: false }, ...sections }, ...extra });
  }

  /** Builds one probe exactly as the agent would (config validation included), with its own metrics; `kubeconfig`: another than the environment's own. */
  probe(node: string, name: string, options: Record<string, unknown> = {}, kubeconfig = this.kubeconfig): { probe: Probe; metrics: { registry: Registry } } {
    const config = loadConfig({ probes: builtinProbes, file: { name: 'test.yaml', text: this.configText(node, { [name]: options }, {}, kubeconfig) } });
    const enabled = new ProbeRegistry(builtinProbes).enabled(config).find((e) => e.definition.name === name)!;
    const registry = new Registry();
    const probe = createProbe(enabled, { node: config.node, clock: systemClock, logger: silentLogger(), registry }, { kubernetes: lazyKubeClients(config.kubernetes) });
    return { probe, metrics: { registry } };
  }

  async stop(): Promise<void> {
    await this.sim.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A run with a generous outer bound, as the runner would give it. */
export const runProbe = (probe: Probe, ms = 20_000) => probe.run(AbortSignal.timeout(ms));

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The value of a sample in the registry ("name{label="v"}" style match on labels), or undefined. */
export async function sample(metrics: { registry: Registry }, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const json = await metrics.registry.getMetricsAsJSON();
  for (const m of json) {
    for (const v of m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
      const metricName = v.metricName ?? m.name;
      if (metricName !== name) continue;
      if (Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x)) return v.value;
    }
  }
  return undefined;
}
