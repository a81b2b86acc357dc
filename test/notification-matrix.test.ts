// The notification matrix: what reaches a person, scenario by scenario, through the shipped rules
// (alerts/vigil.rules.yml, time-compressed 15-fold as in alerting-e2e) in real Prometheus and the
// shipped Alertmanager configuration (group timings compressed alike) in real Alertmanager. The
// agents are synthetic: one HTTP server serves, for every simulated agent of every scenario, the
// series a real agent would export while its cluster goes through the scripted fault
// (test/support/matrix/). Every scenario is a cluster of its own (the `cluster` target label), so
// all run at once. Each row asserts the exact firing notifications per receiver — one per
// problem, none for routine work, none after recovery — and that every resolved notification
// answers one that fired. The table of rows is printed, with how long after each fault the wanted
// notification came (measured, not asserted: compressed time on a busy machine is no clock to
// hold a rule to; alerts/tests/ asserts the timings, evaluation by evaluation).
//
// VIGIL_MATRIX_ROWS=node-down,rollout (ids or row numbers) runs only those rows, for quick iteration;
// VIGIL_MATRIX_FACTOR=1 runs the shipped windows, `for`s and timings uncompressed (about an hour).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from './support/agent-process.ts';
import { freePort } from './support/etcd.ts';
import { WebhookReceiver, rulesScaled, startAlertmanager, startPrometheus, type Alertmanager, type Prometheus } from './support/monitoring.ts';
import { collect, describeAlert, judge, type Verdict } from './support/matrix/judge.ts';
import { renderMatrix } from './support/matrix/report.ts';
import { selectScenarios } from './support/matrix/scenarios.ts';
import { Simulation } from './support/matrix/sim.ts';
import { FACTOR } from './support/matrix/world.ts';

const RULES = path.resolve(import.meta.dirname, '../alerts/vigil.rules.yml');
/** Scrape and rule evaluation: the shipped 30 s, compressed. */
const INTERVAL = `${Math.round(30_000 / FACTOR)}ms`;
const scenarios = selectScenarios(process.env.VIGIL_MATRIX_ROWS);
/** The clusters' time the run must reach: the latest scripted end, settle periods included. */
const endV = Math.max(...scenarios.map((s) => s.end));
const wallMs = (v: number) => (v / FACTOR) * 1000;
/** Start-up (Prometheus, Alertmanager, first scrapes) and shut-down, with room for a loaded machine. */
const SLACK_MS = 120_000;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

void describe('notification matrix', { timeout: wallMs(endV) + SLACK_MS }, () => {
  let dir: string;
  let webhook: WebhookReceiver;
  let sim: Simulation;
  let alertmanager: Alertmanager | undefined;
  let prometheus: Prometheus | undefined;
  const verdicts = new Map<string, Verdict>();
  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-matrix-'));
    webhook = await WebhookReceiver.start();
    const rulesFile = path.join(dir, 'rules.yml');
    rulesScaled(RULES, 1 / FACTOR, rulesFile);
    const sdFile = path.join(dir, 'targets.json');
    sim = new Simulation(scenarios, { sdFile });
    await sim.start();
    // The shipped configuration, its group timings compressed alike (repeat_interval as shipped).
    alertmanager = await startAlertmanager({ dir: path.join(dir, 'alertmanager'), port: await freePort(), webhookUrl: webhook.url, scale: 1 / FACTOR });
    // Targets from a file, so pods can leave and join as in a rollout.
    prometheus = await startPrometheus({ dir: path.join(dir, 'prometheus'), port: await freePort(), targets: { file: sdFile }, rulesFile, alertmanagerUrl: alertmanager.innerUrl, scrapeInterval: INTERVAL, evaluationInterval: INTERVAL });
    // Every simulated agent a target of its own, scraped, before the clusters' time starts.
    const targets = sim.discovered(0).length;
    await eventually(
      async () => {
        const r = await query('count(up{job="vigil"} == 1)');
        return Number(r[0]?.value[1] ?? 0) === targets ? true : undefined;
      },
      Math.max(60_000, (4 * 30_000) / FACTOR),
      `Prometheus scraping all ${targets} simulated agents`,
    );
    sim.begin();
    // The scripts run to their end, settle periods included: every notification due has been sent.
    const endAt = sim.wallMs(endV);
    await new Promise((r) => setTimeout(r, Math.max(0, endAt - Date.now())));

    const byCluster = collect(webhook.notifications);
    for (const s of scenarios) {
      const got = byCluster.get(s.id) ?? { firing: [], resolved: [] };
      verdicts.set(s.id, judge({ want: s.want, tolerate: s.tolerate, firing: got.firing, resolved: got.resolved, faultAtMs: sim.wallMs(s.faultAt) }));
    }
    const stray = [...byCluster].filter(([c]) => !scenarios.some((s) => s.id === c)).flatMap(([c, g]) => g.firing.map((a) => `${a.receiver}: ${describeAlert(a)}${c ? ` (cluster ${c})` : ''}`));
    verdicts.set('', { problems: stray, notified: {}, delays: [] });
    console.log(
      `\nnotification matrix (${FACTOR === 1 ? 'rules and Alertmanager timings as shipped' : `rules and Alertmanager timings compressed ×${FACTOR}`}; times below are the clusters' own):\n${renderMatrix(
        scenarios.map((s) => ({ scenario: s, verdict: verdicts.get(s.id)! })),
        stray,
      )}\n`,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await sim?.stop();
    await webhook?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const s of scenarios) {
    void it(`${s.row} ${s.id}: ${s.title}`, () => {
      assert.deepEqual(verdicts.get(s.id)?.problems, [], `${s.id}: notified ${JSON.stringify(verdicts.get(s.id)?.notified)}`);
    });
  }

  void it('every notification belongs to a cluster of the matrix', () => {
    assert.deepEqual(verdicts.get('')?.problems, []);
  });
});
