// Prometheus-like scrapers of /metrics (over HTTPS with basic auth, or plain HTTP), each at 1/s,
// all in one child process on keep-alive connections (as Prometheus keeps them), so the load costs the agent what
// real scrapes cost and the load generator does not compete with it more than Prometheus would.
//
// startScrapers() runs this file in a child process; run directly, it scrapes and prints its
// tallies as one line of JSON.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';

export interface ScrapeLoad {
  /** e.g. https://localhost:1234/metrics (with the three below), or http://127.0.0.1:1234/metrics */
  url: string;
  caFile?: string;
  user?: string;
  password?: string;
  scrapers: number;
  seconds: number;
}

export interface ScrapeTally {
  ok: number;
  /** Failures by message (HTTP status or socket error). */
  errors: Record<string, number>;
  /** Scrapes answered 200 whose body did not contain the agent's build info. */
  incomplete: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(load: ScrapeLoad): Promise<ScrapeTally> {
  const secure = load.url.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: load.scrapers, ca: load.caFile ? readFileSync(load.caFile) : undefined }) : new http.Agent({ keepAlive: true, maxSockets: load.scrapers });
  const get = secure ? https.get : http.get;
  const auth = load.user === undefined ? {} : { auth: `${load.user}:${load.password ?? ''}` };
  const tally: ScrapeTally = { ok: 0, errors: {}, incomplete: 0 };
  const fail = (what: string) => (tally.errors[what] = (tally.errors[what] ?? 0) + 1);
  const end = Date.now() + load.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = get(load.url, { agent, ...auth, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
          else if (!Buffer.concat(chunks).includes('vigil_build_info')) tally.incomplete++;
          else tally.ok++;
          resolve();
        });
        res.on('error', (err) => {
          fail(err.message);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', (err) => {
        fail(err.message);
        resolve();
      });
    });
  const scraper = async () => {
    // Spread over the first second, as scrapers with their own schedules are.
    await sleep(Math.random() * 1000);
    while (Date.now() < end) {
      const t0 = Date.now();
      await one();
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    }
  };
  await Promise.all(Array.from({ length: load.scrapers }, scraper));
  agent.destroy();
  return tally;
}

/** Runs the scrapers in a child process; resolves with their tallies when they are done. */
export function startScrapers(load: ScrapeLoad): { pid: number; done: Promise<ScrapeTally> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(load)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<ScrapeTally>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ScrapeTally);
      else reject(new Error(`the scrapers exited with ${code}: ${err}`));
    });
  });
  return { pid: child.pid!, done };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  scrape(JSON.parse(process.argv[2]!) as ScrapeLoad).then(
    (tally) => console.log(JSON.stringify(tally)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
