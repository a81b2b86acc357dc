// The status page in headless Chromium against five real agents on loopback: healthy, cut in two
// by a partition (seen from both sides), healed, then with one agent stopped. With
// VIGIL_SCREENSHOT_DIR set, it saves what the page looks like in each state (scripts/screenshots.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO } from './support/agent-process.ts';
import { launchBrowser, type Browser } from './support/browser.ts';
import { startLoopbackCluster, type LoopbackCluster } from './support/loopback-cluster.ts';
import { COLOURS, readProbeMatrix, readReachability, readVerdict } from './support/page-reader.ts';

const execFileAsync = promisify(execFile);
const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const SHOTS = process.env.VIGIL_SCREENSHOT_DIR;
let cluster: LoopbackCluster;
let browser: Browser;
const pageErrors: string[] = [];

async function open(node: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${node}: ${e.message}`));
  await page.goto(`${cluster.url(node)}/?refresh=1`);
  return page;
}

/** Waits until the page, refreshing itself, shows a banner whose text matches. */
async function poll(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Asks the agent for the cluster status until it lists no cause; returns when that answer was asked for. */
async function allUpSince(url: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const askedAt = Date.now();
    const s = (await (await fetch(`${url}/api/v1/status?detail=reachability`)).json()) as { causes: unknown[]; reachability: { up: boolean }[] };
    if (s.causes.length === 0 && s.reachability.every((e) => e.up)) return askedAt;
    if (Date.now() > deadline) throw new Error(`the cluster did not come back healthy: ${JSON.stringify(s.causes)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForBanner(page: Page, re: RegExp, what: string): Promise<void> {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('verdict')?.textContent ?? ''), re.source, { timeout: 30_000, polling: 200 });
  } catch (err) {
    throw new Error(`the page never showed ${what}; it shows: ${await page.textContent('#verdict')}`, { cause: err });
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await page.waitForTimeout(300); // the last refresh's paint
  await page.screenshot({ path: path.join(SHOTS, `status-page-${name}.png`), fullPage: true });
}

void describe('status page on a real loopback cluster', { timeout: 150_000 }, () => {
  before(async () => {
    cluster = await startLoopbackCluster({
      names: NAMES,
      intervalMs: 1000,
      // Thresholds the test machine's disk and memory stay under: the healthy state must be healthy.
      configure: () => ({ probes: { node: { interval: '2s', timeout: '1s', filesystem: { warning: 0.98, critical: 0.99 }, memory: { warning: 0.98, critical: 0.99 } } } }),
    });
    browser = await launchBrowser({ allowOrigins: () => NAMES.map((n) => cluster.url(n)) });
  });
  after(async () => {
    await browser?.close();
    await cluster?.close();
    assert.deepEqual(pageErrors, [], 'the page threw');
  });

  void it('healthy: a green banner, every probe ok in green, every path up on both networks', async () => {
    const page = await open('alpha');
    await waitForBanner(page, /^Cluster healthy/, 'a healthy cluster');
    // Until every agent has pinged every other, the matrices still fill in; wait for the full picture.
    await page.waitForFunction(() => document.querySelectorAll('table.reach td.r-up').length === 2 * 5 * 4, null, { timeout: 30_000 });
    const v = await readVerdict(page);
    assert.equal(v.background, COLOURS.healthyBanner);
    assert.match((await page.textContent('#verdict')) ?? '', /as seen from alpha .* 5 of 5 nodes answered/);
    const m = await readProbeMatrix(page);
    assert.deepEqual(
      m.rows.map((r) => r.node),
      NAMES,
    );
    assert.deepEqual(m.columns, ['node', 'peer-mesh'], 'the node probe and the peer mesh, which runs as a probe');
    for (const r of m.rows) {
      assert.deepEqual([r.verdict.text, r.verdict.background], ['ok', COLOURS.ok], r.node);
      assert.deepEqual([r.cells.node!.text, r.cells.node!.background], ['ok', COLOURS.ok], r.node);
      assert.match(r.cells.node!.title, new RegExp(`^${r.node} / node: ok — .* \\(since 20`));
    }
    for (const network of ['pod', 'host'] as const) {
      const reach = await readReachability(page, network);
      assert.deepEqual(reach.order, NAMES);
      assert.deepEqual(reach.groupStarts, []);
      for (const [i, row] of reach.cells.entries()) for (const [j, c] of row.entries()) if (i !== j) assert.equal(c.background, COLOURS.reachUp, `${network} ${NAMES[i]} → ${NAMES[j]}: ${c.text}`);
    }
    assert.match((await page.textContent('#local')) ?? '', /This node: alpha ok/);
    assert.match((await page.textContent('#local')) ?? '', /Peers as this node sees them/);
    await screenshot(page, 'healthy');
    await page.close();
  });

  void it('partition: each side sees its own block reaching itself and the other side cut off', async () => {
    const sides = [
      ['alpha', 'bravo', 'charlie'],
      ['delta', 'echo'],
    ];
    cluster.partition(sides);
    const pages = await Promise.all([open('bravo'), open('echo')]);
    try {
      for (const [k, page] of pages.entries()) {
        const [ours, theirs] = k === 0 ? [sides[0]!, sides[1]!] : [sides[1]!, sides[0]!];
        await waitForBanner(page, /network partition/, 'the partition');
        const v = await readVerdict(page);
        assert.equal(v.heading, 'Cluster degraded');
        assert.equal(v.background, COLOURS.degradedBanner);
        const cause = v.causes.find((c) => c.includes('network partition'))!;
        assert.match(cause, new RegExp(`^critical network partition: .*${ours.join(', ')}.* cannot reach .*${theirs.join(', ')}`));
        assert.match(cause, new RegExp(`sides: \\{${ours.join(', ')}\\} vs \\{${theirs.join(', ')}\\}$`));

        const m = await readProbeMatrix(page);
        assert.deepEqual(
          m.rows.map((r) => r.node),
          [...ours, ...theirs],
          'the answering side first',
        );
        for (const r of m.rows) {
          if (ours.includes(r.node)) assert.deepEqual([r.cells.node!.text, r.cells.node!.background], ['ok', COLOURS.ok], r.node);
          else assert.deepEqual([r.cells.node!.text, r.cells.node!.backgroundImage.startsWith('repeating-linear-gradient')], ['unreachable', true], r.node);
        }
        const cut = 2 * ours.length * theirs.length;
        await page.waitForFunction((n) => document.querySelectorAll('table.reach td.r-down').length === n, cut, { timeout: 30_000 });
        for (const network of ['pod', 'host'] as const) {
          const reach = await readReachability(page, network);
          assert.deepEqual(reach.order, [...ours, ...theirs]);
          assert.deepEqual(reach.groupStarts, [theirs[0]], 'a heavy rule between the sides');
          for (const [i, row] of reach.cells.entries()) {
            for (const [j, c] of row.entries()) {
              const at = `${network} ${reach.order[i]} → ${reach.order[j]}`;
              if (i === j) continue;
              if (i >= ours.length) assert.equal(c.text, '?', `${at}: the far side does not answer, so its view is unknown`);
              else if (j < ours.length) assert.equal(c.background, COLOURS.reachUp, `${at}: ${c.text}`);
              else assert.deepEqual([c.text, c.background], ['down', COLOURS.reachDown], at);
            }
          }
        }
      }
      await screenshot(pages[0], 'partition');
    } finally {
      await Promise.all(pages.map((p) => p.close()));
    }
  });

  void it('healed, then one agent stopped: its row unreachable, every path to it down, and the cause names it with since when, here and in vigil status', async () => {
    cluster.partition(null);
    const page = await open('alpha');
    await waitForBanner(page, /^Cluster healthy/, 'the healed cluster');
    // The last moment every link was seen up: an answer asked for at this time lists no cause, so
    // any link found down afterwards went down after it (on a loaded machine a ping may time out
    // before the stop; that is evidence too, and counts from when it was seen).
    const healthyAt = await allUpSince(cluster.url('alpha'));
    await cluster.stopAgent('echo');
    // Until its observers have missed a ping the status may call echo unknown; wait for the verdict.
    await waitForBanner(page, /node echo is down|agent on echo is not running/, 'echo named as down');
    const v = await readVerdict(page);
    assert.equal(v.heading, 'Cluster degraded');
    assert.ok(
      v.causes.some((c) => /^critical (node echo is down|agent on echo is not running)/.test(c)),
      v.causes.join('\n'),
    );
    assert.ok(!v.causes.some((c) => /partition/.test(c)), v.causes.join('\n'));
    // since when: from the observers' own transitions, after the stop and not in the future
    const cause = v.causes.find((c) => /echo/.test(c))!;
    assert.match(cause, / — since \d{1,2}:\d\d:\d\d.* \((just now|\d+s ago)\)$/);
    const since = Date.parse((await page.getAttribute('li.cause:has-text("echo") .since', 'title')) ?? '');
    assert.ok(since >= healthyAt && since <= Date.now(), `since ${new Date(since).toISOString()}, every link up at ${new Date(healthyAt).toISOString()}`);
    // vigil status, asked of another agent, says the same with the same time; a degraded cluster exits 1
    const cli = await execFileAsync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--url', cluster.url('bravo')], { cwd: REPO }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(cli.code, 1, cli.stdout);
    const line = cli.stdout.split('\n').find((l) => /critical +(node echo is down|agent on echo is not running)/.test(l));
    assert.ok(line, cli.stdout);
    const hms = / — since (\d\d:\d\d:\d\d) UTC \((\d+s|\d+m \d+s)\)$/.exec(line)?.[1];
    assert.ok(hms, line);
    assert.ok(Math.abs(Date.parse(`${new Date(since).toISOString().slice(0, 10)}T${hms}Z`) - since) <= 2_000, `${line} vs ${new Date(since).toISOString()}`);
    // the link going down is in the merged timeline, as each observer recorded it
    // every observer records it once its own next ping fails (the cause may be named before the last one has)
    type Event = { node: string; from: string; to: string; reason: string | null; time: string };
    let events: Event[] = [];
    const downsOf = () => events.filter((e) => e.from === 'up' && e.to === 'down' && Date.parse(e.time) >= healthyAt);
    await poll("every observer's down transition in the merged timeline", async () => {
      events = ((await (await fetch(`${cluster.url('bravo')}/api/v1/history?probe=peer/echo/pod`)).json()) as { events: Event[] }).events;
      return new Set(downsOf().map((e) => e.node)).size === 4;
    }).catch(() => assert.fail(JSON.stringify(events)));
    const downs = downsOf();
    assert.deepEqual([...new Set(downs.map((e) => e.node))].sort(), ['alpha', 'bravo', 'charlie', 'delta'], JSON.stringify(events));
    // through the test's relays a closed port reads as a reset connection
    assert.ok(
      downs.every((e) => e.reason !== null),
      JSON.stringify(downs),
    );
    const m = await readProbeMatrix(page);
    const echo = m.rows.find((r) => r.node === 'echo')!;
    assert.equal(echo.verdict.text, 'unreachable');
    assert.match(echo.cells.node!.title, /^echo \/ node: unreachable — no answer/);
    assert.ok(m.rows.filter((r) => r.node !== 'echo').every((r) => r.cells.node!.background === COLOURS.ok));
    await page.waitForFunction(() => document.querySelectorAll('table.reach[data-network="pod"] td[data-peer="echo"].r-down').length === 4, null, { timeout: 30_000 });
    const reach = await readReachability(page, 'pod');
    const col = reach.order.indexOf('echo');
    for (const [i, row] of reach.cells.entries()) {
      if (i === col)
        assert.ok(
          row.every((c) => c.text === '?' || c.text === '·'),
          'the stopped agent reports nothing',
        );
      else assert.deepEqual([row[col]!.text, row[col]!.background], ['down', COLOURS.reachDown], `${reach.order[i]} → echo`);
    }
    await screenshot(page, 'node-down');
    await page.close();
  });
});

void describe('status page on agents that require the peer token', { timeout: 60_000 }, () => {
  const TOKEN = 'page-test-token-0123456789abcdef';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-page-token-'));
  let pair: LoopbackCluster;
  let tokenBrowser: Browser;
  before(async () => {
    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
    pair = await startLoopbackCluster({
      names: ['north', 'south'],
      intervalMs: 1000,
      tokenFile: path.join(dir, 'token'),
      configure: () => ({ probes: { node: { interval: '2s', timeout: '1s', filesystem: { warning: 0.98, critical: 0.99 }, memory: { warning: 0.98, critical: 0.99 } } } }),
    });
    tokenBrowser = await launchBrowser({ allowOrigins: () => pair.names.map((n) => pair.url(n)) });
  });
  after(async () => {
    await tokenBrowser?.close();
    await pair?.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(pageErrors, [], 'the page threw');
  });

  async function openTokenPage(query = 'refresh=1'): Promise<Page> {
    const page = await tokenBrowser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`token page: ${e.message}`));
    await page.goto(`${pair.url('north')}/?${query}`);
    return page;
  }
  // The prompt and its hint are drawn in the same render as the banner, so reading them once the
  // banner shows reads that render.
  const authShown = (page: Page) => page.isVisible('#auth');
  const authHint = async (page: Page) => (await page.textContent('#auth-hint')) ?? '';

  void it('says the API wants the token, asks for it, and shows the cluster once given it', async () => {
    const page = await openTokenPage();
    await waitForBanner(page, /HTTP 401/, 'the refusal');
    assert.equal(await authShown(page), true);
    assert.equal(await authHint(page), '', 'no token was sent, so none was refused');
    assert.match((await page.textContent('#verdict')) ?? '', /api\/v1\/status: HTTP 401: this endpoint needs the shared peer token/);
    await page.fill('#auth-token', TOKEN);
    await page.click('#auth button');
    await waitForBanner(page, /^Cluster healthy.*2 of 2 nodes answered/, 'the cluster behind the token');
    assert.equal(await authShown(page), false);
    assert.equal(await authHint(page), '');
    assert.match((await page.textContent('#local')) ?? '', /This node: north ok/);
    await page.close();
  });

  void it('says a wrong token was refused, and keeps asking', async () => {
    const page = await openTokenPage();
    await waitForBanner(page, /HTTP 401/, 'the refusal');
    assert.equal(await authHint(page), '');
    await page.fill('#auth-token', 'not-the-token');
    await page.click('#auth button');
    await page.waitForFunction(() => document.getElementById('auth-hint')?.textContent === 'The token given was refused.', null, { timeout: 30_000, polling: 200 });
    assert.equal(await authShown(page), true);
    assert.match((await page.textContent('#verdict')) ?? '', /HTTP 401/);
    await page.close();
  });

  void it('uses a token given while a refresh is in flight at once, and drops the answer asked without it', async () => {
    // The timer's second refresh is held at its cluster request until the token has been given and
    // has worked; the timer starts no other refresh while that one is in flight, so only the
    // token's own refresh can show the cluster.
    let arrived!: () => void;
    const heldArrived = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let seen = 0;
    const page = await tokenBrowser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`token page: ${e.message}`));
    await page.route('**/api/v1/status', async (route) => {
      if (seen++ === 1) {
        arrived();
        await released;
      }
      await route.fallback();
    });
    await page.goto(`${pair.url('north')}/?refresh=2`);
    await waitForBanner(page, /HTTP 401/, 'the refusal');
    await heldArrived;
    await page.fill('#auth-token', TOKEN);
    await page.click('#auth button');
    await waitForBanner(page, /^Cluster healthy.*2 of 2 nodes answered/, 'the cluster, from the refresh the token started');
    assert.equal(await authShown(page), false);
    release();
    await page.waitForFunction(() => Number(document.body.dataset.superseded ?? 0) >= 1, null, { timeout: 30_000, polling: 100 });
    assert.match((await page.textContent('#verdict')) ?? '', /^Cluster healthy/, 'the answer asked without the token is not drawn');
    assert.equal(await authShown(page), false);
    assert.equal(await authHint(page), '', 'the token was never refused');
    await page.close();
  });
});
