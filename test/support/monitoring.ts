// Real Prometheus and Alertmanager (Debian's prometheus and prometheus-alertmanager) for the
// end-to-end test and the demo, with all their state in a directory the caller owns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { relayOutOfNamespace } from './netns-relay.ts';
import { startProcess, waitReady, type ManagedProcess } from './process.ts';

export interface ScrapeTarget {
  /** host:port of an agent. */
  address: string;
  /** The node the agent runs on; becomes the target's `node` label, as service discovery gives it in a cluster. */
  node: string;
}

/** The example Alertmanager configuration shipped in the repository. */
export const EXAMPLE_ALERTMANAGER_CONFIG = path.resolve(import.meta.dirname, '../../alerts/alertmanager.yml');

/**
 * The labels prometheus-operator gives a target of deploy/components/kube-prometheus-stack/servicemonitor.yaml: job (the
 * Service), namespace, service, pod, container, endpoint (the port's name) and, relabelled from
 * the pod's node, node. The instance is the address.
 */
export function serviceMonitorLabels(t: ScrapeTarget): Record<string, string> {
  return { namespace: 'vigil', service: 'vigil', pod: `vigil-${t.node}`, container: 'vigil', endpoint: 'http', node: t.node };
}

/**
 * Where a server runs: the root namespace (the default), or a network namespace, as on one node of
 * simulated hosts, where it listens on the namespace's own loopback and is reached from the test
 * through a relay (`dir` holds the relay's socket).
 */
export interface InNamespace {
  ns: string;
  dir: string;
}

/** A Prometheus-family server: `url` as the test reaches it, `innerUrl` as its own namespace does. */
export interface MonitoringServer {
  url: string;
  innerUrl: string;
  proc: ManagedProcess;
  /** Ends the server (by its PID) and its relay. */
  stop(): Promise<void>;
}

export type Prometheus = MonitoringServer;

export async function startPrometheus(opts: {
  dir: string;
  port: number;
  /** The agents to scrape, or a file_sd file that lists them (targets that come and go). */
  targets: ScrapeTarget[] | { file: string };
  rulesFile: string;
  /** Alertmanager as Prometheus reaches it (its `innerUrl`). */
  alertmanagerUrl: string;
  scrapeInterval: string;
  evaluationInterval: string;
  netns?: InNamespace;
}): Promise<Prometheus> {
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const config = {
    global: { scrape_interval: opts.scrapeInterval, scrape_timeout: opts.scrapeInterval, evaluation_interval: opts.evaluationInterval },
    rule_files: [opts.rulesFile],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(opts.alertmanagerUrl).host] }] }] },
    // As the operator renders the ServiceMonitor: target labels set by Prometheus, honor_labels false.
    scrape_configs: [
      {
        job_name: 'vigil',
        honor_labels: false,
        ...(Array.isArray(opts.targets) ? { static_configs: opts.targets.map((t) => ({ targets: [t.address], labels: serviceMonitorLabels(t) })) } : { file_sd_configs: [{ files: [opts.targets.file], refresh_interval: '5s' }] }),
      },
    ],
  };
  const file = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  return startServer(
    'prometheus',
    '/usr/bin/prometheus',
    opts.port,
    [
      `--config.file=${file}`,
      `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
      // Resend firing alerts quickly, so Alertmanager hears of them within the evaluation interval.
      '--rules.alert.resend-delay=1s',
    ],
    opts.netns,
  );
}

/**
 * Starts a Prometheus-family server on 127.0.0.1:port (of its namespace, if given) and waits until
 * its /-/ready answers.
 */
async function startServer(name: string, command: string, port: number, args: string[], netns?: InNamespace): Promise<MonitoringServer> {
  const argv = [...args, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  // `ip netns exec` execs the server, so the PID kept is the server's own.
  const proc = netns ? startProcess({ name, command: 'ip', args: ['netns', 'exec', netns.ns, command, ...argv] }) : startProcess({ name, command, args: argv });
  const innerUrl = `http://127.0.0.1:${port}`;
  let relay: Awaited<ReturnType<typeof relayOutOfNamespace>> | undefined;
  const stop = async () => {
    await proc.stop();
    await relay?.close();
  };
  try {
    if (netns) relay = await relayOutOfNamespace({ ns: netns.ns, host: '127.0.0.1', port, dir: netns.dir });
    const url = relay?.url ?? innerUrl;
    await waitReady(proc, `${url}/-/ready`);
    return { url, innerUrl, proc, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type Alertmanager = MonitoringServer;

/**
 * Starts real Alertmanager with the example configuration (alerts/alertmanager.yml), or `config`
 * if given: its routes, grouping and inhibitions as written, every receiver's URL replaced by
 * `webhookUrl`, and the route timings replaced only if `timings` is given (tests that cannot wait
 * minutes).
 */
export async function startAlertmanager(opts: {
  dir: string;
  port: number;
  /** A whole configuration to start from instead of the example (YAML). */
  config?: string;
  /** Where notifications go (a webhook); absent: nowhere, the UI only. */
  webhookUrl?: string;
  timings?: { groupWait: string; groupInterval: string; repeatInterval: string };
  /** Instead of `timings`: every route's group_wait and group_interval multiplied by this (repeat_interval kept). */
  scale?: number;
  netns?: InNamespace;
}): Promise<Alertmanager> {
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const file = path.join(opts.dir, 'alertmanager.yml');
  writeFileSync(file, alertmanagerConfig(opts));
  return startServer(
    'alertmanager',
    '/usr/bin/prometheus-alertmanager',
    opts.port,
    [
      `--config.file=${file}`,
      `--storage.path=${path.join(opts.dir, 'data')}`,
      // No gossip port: a single instance needs no cluster.
      '--cluster.listen-address=',
    ],
    opts.netns,
  );
}

interface Route {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

/**
 * The example configuration (or `config`) with the receivers pointed at `webhookUrl` (or nowhere)
 * and, if given, shorter timings: `timings` set outright, or `scale` multiplying each route's own.
 */
export function alertmanagerConfig(opts: { config?: string; webhookUrl?: string; timings?: { groupWait: string; groupInterval: string; repeatInterval: string }; scale?: number }): string {
  const config = parse(opts.config ?? readFileSync(EXAMPLE_ALERTMANAGER_CONFIG, 'utf8')) as { route: Route; receivers: { name: string; webhook_configs?: { url: string }[] }[] };
  for (const r of config.receivers) {
    if (opts.webhookUrl) for (const w of r.webhook_configs ?? []) w.url = `${opts.webhookUrl}?receiver=${r.name}`;
    else delete r.webhook_configs;
  }
  if (opts.timings) {
    const t = opts.timings;
    const shorten = (route: Route) => {
      if (route.group_wait) route.group_wait = t.groupWait;
      if (route.group_interval) route.group_interval = t.groupInterval;
      if (route.repeat_interval) route.repeat_interval = t.repeatInterval;
      for (const r of route.routes ?? []) shorten(r);
    };
    shorten(config.route);
  }
  if (opts.scale !== undefined) {
    const factor = opts.scale;
    // Alertmanager's own defaults where the root route sets none.
    config.route.group_wait ??= '30s';
    config.route.group_interval ??= '5m';
    const scale = (route: Route) => {
      if (route.group_wait) route.group_wait = scaled(route.group_wait, factor);
      if (route.group_interval) route.group_interval = scaled(route.group_interval, factor);
      for (const r of route.routes ?? []) scale(r);
    };
    scale(config.route);
  }
  return stringify(config);
}

/** One alert of an Alertmanager webhook notification. */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface Notification {
  receivedAt: number;
  receiver: string;
  status: string;
  alerts: NotifiedAlert[];
}

/** A webhook receiver on loopback that records every notification Alertmanager sends it. */
export class WebhookReceiver {
  readonly notifications: Notification[] = [];
  #server: Server;
  url = '';

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        try {
          const n = JSON.parse(body) as { status: string; alerts: NotifiedAlert[] };
          receiver.notifications.push({ receivedAt: Date.now(), receiver: new URL(req.url ?? '/', 'http://x').searchParams.get('receiver') ?? '', status: n.status, alerts: n.alerts });
          res.writeHead(200).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    return receiver;
  }

  /** The first notified alert with this status and labels, with when it arrived and to which receiver. */
  find(status: 'firing' | 'resolved', labels: Record<string, string>, since = 0): { alert: NotifiedAlert; receivedAt: number; receiver: string } | undefined {
    return this.findAll(status, labels, since)[0];
  }

  /** Every notified alert with this status and labels (one per notification it was in). */
  findAll(status: 'firing' | 'resolved', labels: Record<string, string>, since = 0): { alert: NotifiedAlert; receivedAt: number; receiver: string }[] {
    const out = [];
    for (const n of this.notifications) {
      if (n.receivedAt < since) continue;
      for (const alert of n.alerts) {
        if (alert.status === status && Object.entries(labels).every(([k, v]) => alert.labels[k] === v)) out.push({ alert, receivedAt: n.receivedAt, receiver: n.receiver });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const seconds = (d: string) => [...d.matchAll(/(\d+)([smhd])/g)].reduce((sum, m) => sum + Number(m[1]) * UNIT_SECONDS[m[2]!]!, 0);
const scaled = (d: string, factor: number) => (seconds(d) === 0 ? '0s' : `${Math.max(1, Math.round(seconds(d) * factor))}s`);

/**
 * A time-compressed copy of the rules for tests that cannot wait minutes: every range window (and
 * subquery step), every `offset` and every `for` multiplied by `factor` (e.g. 1/15 turns 2m into 8s, to go with a 2 s
 * scrape for the 30 s one the rules are written for). The expressions are otherwise exactly as
 * shipped.
 */
export function rulesScaled(rulesFile: string, factor: number, outFile: string): void {
  const doc = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { expr: string; for?: string }[] }[] };
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.for !== undefined) r.for = scaled(r.for, factor);
      r.expr = r.expr
        .replace(/\[(\d+[smhd](?:\d+[smhd])*)(?::(\d+[smhd](?:\d+[smhd])*))?\]/g, (_, d: string, step?: string) => `[${scaled(d, factor)}${step ? `:${scaled(step, factor)}` : ''}]`)
        .replace(/\boffset (\d+[smhd](?:\d+[smhd])*)/g, (_, d: string) => `offset ${scaled(d, factor)}`);
    }
  }
  writeFileSync(outFile, stringify(doc, { lineWidth: 0 }));
}
