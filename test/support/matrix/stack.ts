// Real Prometheus and Alertmanager for the notification matrix: Prometheus discovers the simulated
// agents from a file (file_sd, so pods can leave and join), scrapes them as a ServiceMonitor would
// (job "vigil", honor_labels false) and evaluates the shipped rules time-compressed; Alertmanager
// runs the shipped configuration with its receivers pointed at a webhook and every route's
// group_wait and group_interval compressed by the same factor (repeat_interval kept as shipped).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { alertmanagerConfig } from '../monitoring.ts';
import { startProcess, waitReady, type ManagedProcess } from '../process.ts';
import { freePort } from '../etcd.ts';

export interface Server {
  url: string;
  proc: ManagedProcess;
}

async function startServer(name: string, command: string, args: string[]): Promise<Server> {
  const port = await freePort();
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

export async function startPrometheus(opts: { dir: string; sdFile: string; rulesFile: string; alertmanagerUrl: string; interval: string }): Promise<Server> {
  mkdirSync(path.join(opts.dir, 'prometheus'), { recursive: true });
  const config = {
    global: { scrape_interval: opts.interval, scrape_timeout: opts.interval, evaluation_interval: opts.interval },
    rule_files: [opts.rulesFile],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(opts.alertmanagerUrl).host] }] }] },
    scrape_configs: [{ job_name: 'vigil', honor_labels: false, file_sd_configs: [{ files: [opts.sdFile], refresh_interval: '5s' }] }],
  };
  const file = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  return startServer('prometheus', '/usr/bin/prometheus', [
    `--config.file=${file}`,
    `--storage.tsdb.path=${path.join(opts.dir, 'prometheus')}`,
    // Resend firing alerts quickly, so Alertmanager hears of them within the evaluation interval.
    '--rules.alert.resend-delay=1s',
  ]);
}

interface Route {
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
}

const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const secondsOf = (d: string) => [...d.matchAll(/(\d+)(ms|[smhd])/g)].reduce((sum, m) => sum + Number(m[1]) * UNIT[m[2]!]!, 0);
const scaled = (d: string, factor: number) => `${Math.max(1, Math.round(secondsOf(d) * factor))}s`;

/** The shipped Alertmanager configuration, receivers at `webhookUrl`, group timings multiplied by `factor`. */
export function alertmanagerConfigScaled(webhookUrl: string, factor: number): string {
  const config = parse(alertmanagerConfig({ webhookUrl })) as { route: Route };
  // Alertmanager's own defaults where the root route sets none.
  config.route.group_wait ??= '30s';
  config.route.group_interval ??= '5m';
  const walk = (r: Route) => {
    if (r.group_wait) r.group_wait = scaled(r.group_wait, factor);
    if (r.group_interval) r.group_interval = scaled(r.group_interval, factor);
    for (const child of r.routes ?? []) walk(child);
  };
  walk(config.route);
  return stringify(config);
}

export async function startAlertmanager(opts: { dir: string; webhookUrl: string; factor: number }): Promise<Server> {
  mkdirSync(path.join(opts.dir, 'alertmanager'), { recursive: true });
  const file = path.join(opts.dir, 'alertmanager.yml');
  writeFileSync(file, alertmanagerConfigScaled(opts.webhookUrl, opts.factor));
  return startServer('alertmanager', '/usr/bin/prometheus-alertmanager', [
    `--config.file=${file}`,
    `--storage.path=${path.join(opts.dir, 'alertmanager')}`,
    // A single instance: no gossip.
    '--cluster.listen-address=',
  ]);
}
