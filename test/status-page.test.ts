// The status page in headless Chromium, fed by hand-made cluster statuses in the API's shape
// (the real mesh is exercised in status-page-cluster.test.ts). One server and one browser serve
// every test; each test sets the status the fixture API answers with.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ClusterStatus, PeerObservation } from '../src/status/cluster-types.ts';
import { launchBrowser, type Browser } from './support/browser.ts';
import { fixtureCluster, fixtureHistory, startFixtureServer } from './support/cluster-fixtures.ts';
import { COLOURS, readProbeMatrix, readReachability, readVerdict, waitForRefresh } from './support/page-reader.ts';

const NODES = ['node-1', 'node-2', 'node-3', 'node-10'];
let current: { status: ClusterStatus; history: ReturnType<typeof fixtureHistory>; token?: string; peers?: PeerObservation[] } = { status: fixtureCluster({ nodes: NODES }), history: fixtureHistory(NODES) };
let server: Awaited<ReturnType<typeof startFixtureServer>>;
let browser: Browser;

async function open(query = ''): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/${query}`);
  await waitForRefresh(page);
  assert.deepEqual(errors, [], 'the page threw');
  return page;
}

void describe('status page (fixture cluster API)', { timeout: 120_000 }, () => {
  before(async () => {
    server = await startFixtureServer(() => current, 'node-1');
    browser = await launchBrowser({ allowOrigins: () => [server.url] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  void it('shows a healthy cluster in green, with words as well as colour, and loads nothing from elsewhere', async () => {
    current = { status: fixtureCluster({ nodes: NODES }), history: fixtureHistory(NODES) };
    const page = await open();
    const v = await readVerdict(page);
    assert.equal(v.heading, 'Cluster healthy');
    assert.equal(v.background, COLOURS.healthyBanner);
    assert.deepEqual(v.causes, []);
    const m = await readProbeMatrix(page);
    assert.deepEqual(
      m.rows.map((r) => r.node),
      ['node-1', 'node-2', 'node-3', 'node-10'],
    );
    assert.deepEqual(m.columns, ['node', 'etcd', 'pod-scheduling', 'dns']);
    for (const r of m.rows) {
      for (const c of Object.values(r.cells)) {
        assert.equal(c.text, 'ok');
        assert.equal(c.background, COLOURS.ok);
      }
    }
    const pod = await readReachability(page, 'pod');
    assert.deepEqual(pod.groupStarts, []);
    assert.ok(
      pod.cells
        .flat()
        .filter((c) => c.text !== '·')
        .every((c) => c.background === COLOURS.reachUp && c.text === '0.4 ms'),
    );
    // The landing page's links are still there, /metrics among them.
    const links = await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['metrics', 'api/v1/status', 'api/v1/status/local', 'api/v1/history', 'api/v1/history/local', 'healthz', 'readyz']);
    assert.match((await page.textContent('#local h2')) ?? '', /This node: node-1/);
    assert.deepEqual(browser.offOrigin, []);
    await page.close();
  });

  void it('names a failing probe at the top and shows its message and since when on hover and click', async () => {
    current = { status: fixtureCluster({ nodes: NODES, failing: { 'node-2': { etcd: ['critical', 'put p50 412 ms > 100 ms'] }, 'node-3': { dns: ['warning', 'lookup 180 ms > 100 ms'] } } }), history: fixtureHistory(NODES) };
    const page = await open();
    const v = await readVerdict(page);
    assert.equal(v.heading, 'Cluster degraded');
    assert.equal(v.background, COLOURS.degradedBanner);
    // each cause says since when its evidence holds (the fixture's probes turned 12 min 34 s before the status)
    assert.equal(v.causes.length, 2);
    assert.match(v.causes[0]!, /^critical etcd is critical on node-2: put p50 412 ms > 100 ms — since \d{1,2}:\d\d:\d\d.* \(12m 3\ds ago\)$/);
    assert.match(v.causes[1]!, /^warning dns is warning on node-3: lookup 180 ms > 100 ms — since \d{1,2}:\d\d:\d\d.* \(12m 3\ds ago\)$/);
    const m = await readProbeMatrix(page);
    const etcd = m.rows.find((r) => r.node === 'node-2')!.cells.etcd!;
    assert.equal(etcd.text, 'critical');
    assert.equal(etcd.background, COLOURS.critical);
    assert.match(etcd.title, /^node-2 \/ etcd: critical — put p50 412 ms > 100 ms \(since 20\d\d-/);
    const dns = m.rows.find((r) => r.node === 'node-3')!.cells.dns!;
    assert.deepEqual([dns.text, dns.background], ['warning', COLOURS.warning]);
    assert.equal(m.rows.find((r) => r.node === 'node-2')!.verdict.text, 'critical');

    await page.click('tr[data-node="node-2"] td[data-probe="etcd"] button');
    const detail = (await page.textContent('#probe-detail')) ?? '';
    assert.match(detail, /node-2 \/ etcd: critical/);
    assert.match(detail, /put p50 412 ms > 100 ms/);
    assert.match(detail, /since12m 3\ds ago \(20\d\d-/);
    await page.close();
  });

  void it('shows a node that does not answer as unreachable and names it as down', async () => {
    current = { status: fixtureCluster({ nodes: NODES, down: ['node-3'] }), history: fixtureHistory(NODES) };
    const page = await open();
    const v = await readVerdict(page);
    assert.equal(v.heading, 'Cluster degraded');
    assert.ok(
      v.causes.some((c) => c.startsWith('critical node node-3 is down or isolated')),
      v.causes.join('\n'),
    );
    const m = await readProbeMatrix(page);
    const row = m.rows.find((r) => r.node === 'node-3')!;
    assert.equal(row.verdict.text, 'unreachable');
    for (const c of Object.values(row.cells)) {
      assert.equal(c.text, 'unreachable');
      assert.match(c.backgroundImage, /repeating-linear-gradient/);
      assert.match(c.title, /no answer: timeout after 2000 ms/);
    }
    const pod = await readReachability(page, 'pod');
    const col = pod.order.indexOf('node-3');
    for (const [i, r] of pod.cells.entries()) {
      if (i === col)
        assert.ok(
          r.every((c) => c.text === '?' || c.text === '·'),
          'the down node reports nothing',
        );
      else assert.deepEqual([r[col]!.text, r[col]!.background], ['down', COLOURS.reachDown]);
    }
    await page.close();
  });

  void it('draws a partition as blocks: each side reaches itself and not the other', async () => {
    const partitions = [
      ['node-3', 'node-1', 'node-4'],
      ['node-10', 'node-2'],
    ];
    current = { status: fixtureCluster({ nodes: [...NODES, 'node-4'], partitions }), history: fixtureHistory(NODES) };
    const page = await open();
    const v = await readVerdict(page);
    assert.match(v.causes.join('\n'), /^critical the network is partitioned: .* — sides: \{node-3, node-1, node-4\} vs \{node-10, node-2\}$/m);
    for (const network of ['pod', 'host'] as const) {
      const r = await readReachability(page, network);
      assert.deepEqual(r.order, ['node-1', 'node-3', 'node-4', 'node-2', 'node-10']);
      assert.deepEqual(r.groupStarts, ['node-2']);
      const side = (i: number) => (i < 3 ? 0 : 1);
      for (const [i, row] of r.cells.entries()) {
        for (const [j, c] of row.entries()) {
          if (i === j) assert.equal(c.text, '·');
          else if (side(i) === side(j)) assert.equal(c.background, COLOURS.reachUp, `${network} ${r.order[i]} → ${r.order[j]}`);
          else assert.deepEqual([c.text, c.background], ['down', COLOURS.reachDown], `${network} ${r.order[i]} → ${r.order[j]}`);
        }
      }
    }
    await page.close();
  });

  void it('on a large cluster, draws the matrices for the nodes in trouble only and says so', async () => {
    const nodes = Array.from({ length: 80 }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
    current = { status: fixtureCluster({ nodes, k: 3, down: ['n40'] }), history: fixtureHistory(nodes.slice(0, 3)) };
    const page = await open();
    assert.equal((await readProbeMatrix(page)).rows.length, 80, 'every node keeps its row of probes');
    const pod = await readReachability(page, 'pod');
    assert.deepEqual(pod.order, ['n37', 'n38', 'n39', 'n40'], 'the down node and the three that ping it');
    assert.deepEqual(
      pod.cells.map((r) => r[3]!.text),
      ['down', 'down', 'down', '·'],
    );
    assert.equal(await page.textContent('#reach-note'), 'Showing the 4 nodes on a broken path or not answering, of 80; every other path tested is up.');
    await page.close();
  });

  void it('keeps the open cell and the timeline filter across refreshes while the data changes', async () => {
    current = { status: fixtureCluster({ nodes: NODES }), history: fixtureHistory(NODES) };
    const page = await open('?refresh=1');
    await page.click('tr[data-node="node-3"] td[data-probe="dns"] button');
    await page.selectOption('#filter-node', 'node-3');
    await page.selectOption('#filter-probe', 'etcd');
    await page.waitForFunction(() => document.querySelectorAll('#timeline-body tr').length === 1);
    current = { status: fixtureCluster({ nodes: NODES, failing: { 'node-3': { dns: ['critical', 'no answer from 10.96.0.10'] } } }), history: fixtureHistory(NODES) };
    await page.waitForFunction(() => /no answer from 10\.96\.0\.10/.test(document.getElementById('probe-detail')?.textContent ?? ''), null, { timeout: 30_000 });
    assert.equal(await page.getAttribute('tr[data-node="node-3"] td[data-probe="dns"] button', 'aria-pressed'), 'true');
    assert.equal(await page.$eval('#filter-node', (s) => (s as HTMLSelectElement).value), 'node-3');
    assert.equal(await page.$eval('#filter-probe', (s) => (s as HTMLSelectElement).value), 'etcd');
    const timeline = await page.$$eval('#timeline-body tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)));
    assert.deepEqual(timeline, [['node-3', 'etcd', 'ok → critical', 'etcd on node-3: put timed out']]);
    await page.close();
  });

  void it('shows names and messages from the API as text, never as markup', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    current = {
      status: fixtureCluster({ nodes: ['node-1', evil], failing: { [evil]: { etcd: ['critical', '<script>window.__pwned=2</script><b>bold</b>'] } } }),
      history: [{ id: 1, node: evil, time: new Date().toISOString(), probe: 'etcd', from: 'ok', to: 'critical', reason: 'error', message: '<img src=y onerror="window.__pwned=3">' }],
    };
    const page = await open();
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.$$eval('main img, main script, main b', (els) => els.length), 0);
    const m = await readProbeMatrix(page);
    assert.ok(m.rows.some((r) => r.node === evil));
    assert.match((await page.textContent('#verdict')) ?? '', /<script>window.__pwned=2<\/script><b>bold<\/b>/);
    assert.match((await page.textContent('#timeline-body')) ?? '', /<img src=y onerror="window.__pwned=3">/);
    await page.close();
  });

  void it('keeps keyboard focus and an opened <details> across refreshes', async () => {
    const peer = (name: string, network: 'pod' | 'host', up: boolean) => ({
      peer: name,
      network,
      up,
      rttSeconds: up ? 0.0004 : null,
      clockOffsetSeconds: up ? 0.001 : null,
      lastChecked: new Date().toISOString(),
      error: up ? null : 'timeout after 500 ms',
    });
    current = { status: fixtureCluster({ nodes: NODES }), history: fixtureHistory(NODES), peers: [peer('node-2', 'pod', true), peer('node-3', 'pod', false)] };
    const page = await open('?refresh=1');
    const peers = '#local details[data-details="local-peers"]';
    assert.equal(await page.$eval(peers, (d) => (d as HTMLDetailsElement).open), false, 'closed until opened');
    assert.match((await page.textContent(`${peers} summary`)) ?? '', /^Peers as this node sees them: 2 links, 1 down$/);
    await page.click(`${peers} summary`);
    // A keyboard user on the etcd cell of node-2: Enter opens its detail, and focus stays on the cell.
    const cell = '#probe-matrix tr[data-node="node-2"] td[data-probe="etcd"] button';
    await page.focus(cell);
    await page.keyboard.press('Enter');
    const focused = () =>
      page.evaluate(() => {
        const a = document.activeElement;
        return a instanceof HTMLElement && a !== document.body ? `${a.tagName} ${a.closest('tr')?.dataset.node ?? ''} ${a.closest('td')?.dataset.probe ?? ''}`.trim() : 'nothing';
      });
    assert.equal(await focused(), 'BUTTON node-2 etcd');
    assert.match((await page.textContent('#probe-detail h3')) ?? '', /^node-2 \/ etcd: ok$/);

    const before = Number(await page.getAttribute('body', 'data-refreshes'));
    await waitForRefresh(page, before + 2);
    assert.equal(await page.$eval(peers, (d) => (d as HTMLDetailsElement).open), true, 'the opened details is still open');
    assert.equal(await focused(), 'BUTTON node-2 etcd', 'focus is back on the same cell');
    assert.equal(await page.getAttribute(cell, 'aria-pressed'), 'true', 'and its detail still shown');

    // The summary itself keeps focus too; closing it sticks.
    await page.focus(`${peers} summary`);
    await page.keyboard.press('Enter');
    const again = Number(await page.getAttribute('body', 'data-refreshes'));
    await waitForRefresh(page, again + 2);
    assert.equal(await page.$eval(peers, (d) => (d as HTMLDetailsElement).open), false, 'closed by the user, it stays closed');
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'SUMMARY');
    await page.close();
  });

  void it('asks for the peer token when the API wants one, and uses it', async () => {
    current = { status: fixtureCluster({ nodes: NODES }), history: fixtureHistory(NODES), token: 'fixture-token-0123456789' };
    const page = await open();
    assert.equal(await page.isVisible('#auth'), true);
    assert.match((await page.textContent('#verdict')) ?? '', /HTTP 401: this endpoint needs the shared peer token/);
    await page.fill('#auth-token', 'fixture-token-0123456789');
    await page.click('#auth button');
    // A refresh already under way when the token was given is dropped, not drawn; the banner and
    // the prompt are drawn together, so the banner is the condition to wait for.
    await page.waitForFunction(() => document.querySelector('#verdict h2')?.textContent === 'Cluster healthy', null, { timeout: 30_000, polling: 100 });
    assert.equal((await readVerdict(page)).heading, 'Cluster healthy');
    assert.equal(await page.isVisible('#auth'), false);
    await page.close();
  });

  void it('still shows this node and the reason when the cluster status cannot be had', async () => {
    const res = await fetch(`${server.url}/`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    current = undefined as unknown as typeof current; // the fixture API now fails with 500
    const page = await open();
    const v = await readVerdict(page);
    assert.equal(v.heading, 'Cluster status unavailable');
    assert.match((await page.textContent('#verdict')) ?? '', /api\/v1\/status: HTTP 500/);
    assert.match((await page.textContent('#local')) ?? '', /This node: node-1/);
    assert.match((await page.textContent('#local')) ?? '', /not run yet/);
    await page.close();
  });
});
