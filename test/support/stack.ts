// The whole product on one machine: real etcd, the Kubernetes API simulator, several agents on
// loopback (each its own process, node name and port, peers listed statically), real Prometheus
// scraping them with a `node` label and loaded with the bundled rules, and real Alertmanager.
// Used by `npm run demo` and by the end-to-end test. Every process is ended by its own PID.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { spawnAgent, type AgentProcess } from './agent-process.ts';
import { freePort, startEtcdCluster, type EtcdCluster } from './etcd.ts';
import { startAlertmanager, startPrometheus, type Alertmanager, type Prometheus } from './monitoring.ts';
import { startProcess, type ManagedProcess } from './process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const BUNDLED_RULES = path.join(ROOT, 'alerts/vigil.rules.yml');

export interface StackOptions {
  nodes?: string[];
  /** Rules Prometheus loads; default: the bundled alerts/vigil.rules.yml. */
  rulesFile?: string;
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** Intervals of the agents' etcd probe and peer pings. */
  probeInterval?: string;
  peerInterval?: string;
  podSchedulingInterval?: string;
  /** Members of the etcd cluster (default 3); every agent probes each. */
  etcdMembers?: number;
  /** Alertmanager sends notifications here (a webhook URL); absent: the UI only. */
  webhookUrl?: string;
  /** Route timings replacing the example configuration's; absent: as shipped. */
  alertmanager?: { groupWait: string; groupInterval: string; repeatInterval: string };
  /** Progress lines, e.g. for the demo's console. */
  onProgress?: (line: string) => void;
}

/** One node's agent, a real `vigil agent` process. */
export interface StackAgent {
  name: string;
  url: string;
  proc: AgentProcess;
  /** Ends the agent by its PID (default SIGKILL: no goodbye to its peers) and waits for it to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the agent again, same config and port, after kill(). */
  restart(): Promise<void>;
}

export interface Stack {
  dir: string;
  etcd: EtcdCluster;
  apisim: { url: string; proc: ManagedProcess; kubeconfig: string };
  agents: StackAgent[];
  prometheus: Prometheus;
  alertmanager: Alertmanager;
  /** Ends every process by its PID and removes the temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The agents' shared peer token; the demo prints it for curl. */
export const PEER_TOKEN = 'demo-peer-token-not-a-secret';

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const nodes = opts.nodes ?? ['node-a', 'node-b', 'node-c'];
  const progress = opts.onProgress ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-stack-'));
  const stops: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const s of stops.reverse()) await s().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    })());

  try {
    progress('starting etcd');
    const etcd = await startEtcdCluster(opts.etcdMembers ?? 3);
    stops.push(() => etcd.stop());

    progress('starting the Kubernetes API simulator');
    const simPort = await freePort();
    const kubeconfig = path.join(dir, 'kubeconfig');
    const sim = startProcess({
      name: 'apisim',
      command: process.execPath,
      args: ['--import', 'tsx', path.join(ROOT, 'test/support/apisim/main.ts'), '--listen', `127.0.0.1:${simPort}`, '--nodes', nodes.join(','), '--kubeconfig', kubeconfig],
      cwd: ROOT,
    });
    stops.push(() => sim.stop());
    const simUrl = `http://127.0.0.1:${simPort}`;
    await waitForOutput(sim, simUrl);

    progress(`starting ${nodes.length} agents`);
    const tokenFile = path.join(dir, 'peer-token');
    writeFileSync(tokenFile, `${PEER_TOKEN}\n`, { mode: 0o600 });
    const ports = new Map<string, number>();
    for (const n of nodes) ports.set(n, await freePort());
    const staticPeers = nodes.map((n) => ({ node: n, pod: `127.0.0.1:${ports.get(n)}` }));
    const agents: StackAgent[] = [];
    stops.push(async () => {
      await Promise.all(agents.map((a) => a.kill('SIGTERM')));
    });
    const probeInterval = opts.probeInterval ?? '5s';
    await Promise.all(
      nodes.map(async (n) => {
        const agentDir = path.join(dir, `agent-${n}`);
        mkdirSync(agentDir);
        const config = {
          node: { name: n },
          storage: { path: agentDir },
          shutdown: { gracePeriod: '2s' },
          kubernetes: { kubeconfig, namespace: 'vigil' },
          probes: {
            etcd: { enabled: true, endpoints: etcd.endpoints, interval: probeInterval, requestTimeout: '1500ms' },
            // Against the API simulator: its scheduler and kubelets place and start the probe pods.
            'pod-scheduling': { enabled: true, interval: opts.podSchedulingInterval ?? '30s' },
            apiserver: { enabled: true },
            'control-plane': { enabled: true },
          },
          peers: { discovery: ['static'], static: staticPeers, interval: opts.peerInterval ?? '2s', timeout: '500ms', tokenFile },
        };
        const spawnIt = () => spawnAgent({ config: stringify(config), args: ['--web.listen-address', `127.0.0.1:${ports.get(n)}`] });
        const agent: StackAgent = {
          name: n,
          url: '',
          proc: await spawnIt(),
          async kill(signal: NodeJS.Signals = 'SIGKILL') {
            const proc = agent.proc;
            const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            proc.kill(signal);
            await proc.exited;
            clearTimeout(timer);
          },
          async restart() {
            agent.proc = await spawnIt();
          },
        };
        agent.url = agent.proc.url;
        agents.push(agent);
      }),
    );
    agents.sort((a, b) => a.name.localeCompare(b.name));

    progress('starting Alertmanager');
    const alertmanager = await startAlertmanager({
      dir: path.join(dir, 'alertmanager'),
      port: await freePort(),
      webhookUrl: opts.webhookUrl,
      timings: opts.alertmanager,
    });
    stops.push(() => alertmanager.stop());

    progress('starting Prometheus');
    const prometheus = await startPrometheus({
      dir: path.join(dir, 'prometheus'),
      port: await freePort(),
      targets: agents.map((a) => ({ address: new URL(a.url).host, node: a.name })),
      rulesFile: opts.rulesFile ?? BUNDLED_RULES,
      alertmanagerUrl: alertmanager.innerUrl,
      scrapeInterval: opts.scrapeInterval ?? '5s',
      evaluationInterval: opts.evaluationInterval ?? '5s',
    });
    stops.push(() => prometheus.stop());

    return { dir, etcd, apisim: { url: simUrl, proc: sim, kubeconfig }, agents, prometheus, alertmanager, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForOutput(proc: ManagedProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.output().includes(text)) {
    if (!proc.running()) throw new Error(`${proc.name} exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} did not start within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
