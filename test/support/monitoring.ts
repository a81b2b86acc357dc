// Real Prometheus and Alertmanager (Debian's prometheus and prometheus-alertmanager) for the
// end-to-end test and the demo, with all their state in a directory the caller owns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { startProcess, waitReady, type ManagedProcess } from './process.ts';

export interface ScrapeTarget {
  /** host:port of an agent. */
  address: string;
  /** The node the agent runs on; becomes the target's `node` label, as service discovery gives it in a cluster. */
  node: string;
}

export interface Prometheus { url: string; proc: ManagedProcess }

export async function startPrometheus(opts: {
  dir: string;
  port: number;
  targets: ScrapeTarget[];
  rulesFile: string;
  alertmanagerUrl: string;
  scrapeInterval: string;
  evaluationInterval: string;
}): Promise<Prometheus> {
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const config = {
    global: { scrape_interval: opts.scrapeInterval, scrape_timeout: opts.scrapeInterval, evaluation_interval: opts.evaluationInterval },
    rule_files: [opts.rulesFile],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(opts.alertmanagerUrl).host] }] }] },
    scrape_configs: [{ job_name: 'vigil', static_configs: opts.targets.map((t) => ({ targets: [t.address], labels: { node: t.node } })) }],
  };
  const file = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  return startServer('prometheus', '/usr/bin/prometheus', opts.port, [
    `--config.file=${file}`,
    `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
    // Resend firing alerts quickly, so Alertmanager hears of them within the evaluation interval.
    '--rules.alert.resend-delay=1s',
  ]);
}

/** Starts a Prometheus-family server on 127.0.0.1:port and waits until its /-/ready answers. */
async function startServer(name: string, command: string, port: number, args: string[]): Promise<{ url: string; proc: ManagedProcess }> {
  const proc = startProcess({ name, command, args: [...args, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'] });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(proc, `${url}/-/ready`);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, proc };
}

export interface Alertmanager { url: string; proc: ManagedProcess }

export async function startAlertmanager(opts: {
  dir: string;
  port: number;
  /** Where notifications go (a webhook); absent: nowhere, the UI only. */
  webhookUrl?: string;
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}): Promise<Alertmanager> {
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const receiver = opts.webhookUrl ? { name: 'vigil', webhook_configs: [{ url: opts.webhookUrl, send_resolved: true }] } : { name: 'vigil' };
  const config = {
    route: { receiver: 'vigil', group_by: ['alertname', 'node', 'endpoint'], group_wait: opts.groupWait, group_interval: opts.groupInterval, repeat_interval: opts.repeatInterval },
    receivers: [receiver],
    // A partition explains the unreachable nodes on both sides.
    inhibit_rules: [{ source_matchers: ['alertname="VigilNetworkPartition"'], target_matchers: ['alertname="VigilNodeUnreachable"'], equal: ['node'] }],
  };
  const file = path.join(opts.dir, 'alertmanager.yml');
  writeFileSync(file, stringify(config));
  return startServer('alertmanager', '/usr/bin/prometheus-alertmanager', opts.port, [
    `--config.file=${file}`,
    `--storage.path=${path.join(opts.dir, 'data')}`,
    // No gossip port: a single instance needs no cluster.
    '--cluster.listen-address=',
  ]);
}

/** One alert of an Alertmanager webhook notification. */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface Notification { receivedAt: number; status: string; alerts: NotifiedAlert[] }

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
          receiver.notifications.push({ receivedAt: Date.now(), status: n.status, alerts: n.alerts });
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

  /** The first notified alert with this status and labels, with when it arrived. */
  find(status: 'firing' | 'resolved', labels: Record<string, string>, since = 0): { alert: NotifiedAlert; receivedAt: number } | undefined {
    for (const n of this.notifications) {
      if (n.receivedAt < since) continue;
      const alert = n.alerts.find((a) => a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
      if (alert) return { alert, receivedAt: n.receivedAt };
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/**
 * A copy of the rules with every `for` replaced, for tests that cannot wait minutes. The
 * expressions stay exactly as shipped.
 */
export function rulesWithFor(rulesFile: string, forDuration: string, outFile: string): void {
  const doc = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { for?: string }[] }[] };
  for (const g of doc.groups) for (const r of g.rules) if (r.for !== undefined) r.for = forDuration;
  writeFileSync(outFile, stringify(doc, { lineWidth: 0 }));
}
