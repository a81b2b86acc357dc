// How the status page copes with cluster size: for clusters of 10, 50 and 200 nodes (four probes
// each, every node pinging k = 10 peers on two networks), the time the page takes to draw one
// refresh in headless Chromium (median of REFRESHES), the DOM it builds and the JSON it fetches.
// All sizes are measured in one run, side by side, in one browser.
//   node --import tsx bench/status-page.ts
import type { ClusterStatus } from '../src/status/cluster-types.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { fixtureCluster, fixtureHistory, startFixtureServer } from '../test/support/cluster-fixtures.ts';

const SIZES = [10, 50, 200];
const REFRESHES = 7;
const ROUNDS = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

let current: { status: ClusterStatus; history: ReturnType<typeof fixtureHistory> } = { status: fixtureCluster({ nodes: ['a'] }), history: [] };
const server = await startFixtureServer(() => current, 'node-001');
const browser = await launchBrowser({ allowOrigins: () => [server.url] });
const results = new Map<number, { render: number[]; dom: number; json: number; heap: number }>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of SIZES) {
      const nodes = Array.from({ length: n }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`);
      current = { status: fixtureCluster({ nodes, k: 10, down: [nodes.at(-1)!], failing: { [nodes[1]!]: { etcd: ['critical', 'put p50 412 ms > 100 ms'] } } }), history: fixtureHistory(nodes.slice(0, 25)) };
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/?refresh=1`);
      await page.waitForFunction((want) => performance.getEntriesByName('vigil-render').length >= want, REFRESHES, { timeout: 120_000, polling: 100 });
      const m = await page.evaluate(() => ({
        render: performance.getEntriesByName('vigil-render').map((e) => e.duration),
        dom: document.getElementsByTagName('*').length,
        heap: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
      }));
      await page.close();
      const r = results.get(n) ?? { render: [], dom: m.dom, json: Buffer.byteLength(JSON.stringify(current.status)), heap: m.heap };
      r.render.push(...m.render.slice(1)); // the first draw includes the module's start-up
      r.heap = Math.max(r.heap, m.heap);
      results.set(n, r);
    }
  }
} finally {
  await browser.close();
  await server.close();
}

const base = median(results.get(SIZES[0]!)!.render);
console.log('| nodes | /api/v1/status JSON | DOM elements | render per refresh (median) | vs 10 nodes | JS heap |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const n of SIZES) {
  const r = results.get(n)!;
  const med = median(r.render);
  console.log(`| ${n} | ${(r.json / 1024).toFixed(0)} KiB | ${r.dom} | ${med.toFixed(1)} ms | ${(med / base).toFixed(1)}× | ${(r.heap / 1048576).toFixed(1)} MiB |`);
}
console.log(`\n${ROUNDS} rounds × ${REFRESHES - 1} refreshes per size`);
