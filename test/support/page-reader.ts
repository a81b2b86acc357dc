/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Page } from 'playwright-core';

/** Computed colours of the verdicts as the stylesheet paints them. */
export const COLOURS = {
  ok: 'rgb(31, 136, 61)',
  warning: 'rgb(212, 167, 44)',
  critical: 'rgb(207, 34, 46)',
  reachUp: 'rgb(218, 251, 225)',
  reachDown: 'rgb(207, 34, 46)',
  healthyBanner: 'rgb(218, 251, 225)',
  degradedBanner: 'rgb(255, 216, 211)',
} as const;

export interface SeenCell {
  text: string;
  title: string;
  background: string;
  backgroundImage: string;
}

/** Waits until the page has drawn at least `n` refreshes. */
export async function waitForRefresh(page: Page, n = 1): Promise<void> {
  await page.waitForFunction((min) => Number(document.body.dataset.refreshes ?? 0) >= min, n, { timeout: 30_000 });
}

/** The probe matrix as a person sees it: node → probe → what the cell shows, its tooltip and colour. */
export async function readProbeMatrix(page: Page): Promise<{ columns: string[]; rows: { node: string; verdict: SeenCell; cells: Record<string, SeenCell> }[] }> {
  // One evaluate that finds and reads the table: a handle taken first could point at a table the
  // next refresh has already replaced, whose computed colours read as ''.
  return page.evaluate(() => {
    const table = document.querySelector('#probe-matrix table')!;
    const seen = (td: Element) => {
      const s = getComputedStyle(td);
      return { text: (td.textContent ?? '').trim(), title: td.querySelector('button')?.title ?? (td as HTMLElement).title, background: s.backgroundColor, backgroundImage: s.backgroundImage };
    };
    const columns = [...table.querySelectorAll('thead th')].slice(2).map((th) => th.textContent ?? '');
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => {
      const tds = [...tr.querySelectorAll('td')];
      return { node: tr.querySelector('th')!.textContent ?? '', verdict: seen(tds[0]!), cells: Object.fromEntries(tds.slice(1).map((td, i) => [columns[i]!, seen(td)])) };
    });
    return { columns, rows };
  });
}

/** One network's reachability matrix: the row order, each cell's text and colour, and where the partition rules fall. */
export async function readReachability(page: Page, network: 'pod' | 'host'): Promise<{ order: string[]; cells: { text: string; background: string }[][]; groupStarts: string[] }> {
  return page.evaluate((net) => {
    const table = document.querySelector(`table.reach[data-network="${net}"]`)!;
    const rows = [...table.querySelectorAll('tbody tr')];
    return {
      order: rows.map((tr) => tr.querySelector('th')!.textContent ?? ''),
      cells: rows.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ text: (td.textContent ?? '').trim(), background: getComputedStyle(td).backgroundColor }))),
      // Rows whose top border is the heavy rule that separates partition groups.
      groupStarts: rows.filter((tr) => parseFloat(getComputedStyle(tr.querySelector('th')!).borderTopWidth) >= 3).map((tr) => tr.querySelector('th')!.textContent ?? ''),
    };
  }, network);
}

/** The banner: its heading, background colour and the causes' text. */
export async function readVerdict(page: Page): Promise<{ heading: string; background: string; causes: string[] }> {
  return page.$eval('#verdict', (box) => ({
    heading: box.querySelector('h2')?.textContent ?? '',
    background: getComputedStyle(box).backgroundColor,
    causes: [...box.querySelectorAll('li')].map((li) => (li.textContent ?? '').trim()),
  }));
}
