// Prometheus-like scrapers of /metrics (over HTTPS with basic auth, or plain HTTP), each at 1/s,
// all in one child process, each on its own keep-alive connection as a Prometheus scrape loop keeps
// one per target, so the load costs the agent what real scrapes cost and the load generator does
// not compete with it more than Prometheus would.
//
// One connection each, not a shared pool: a pool hands its most recently used sockets out first,
// so the others sit idle until the agent closes them at its keep-alive timeout (65 s), and a burst
// of scrapes that reaches for one of those just as the agent closes it is reset (ECONNRESET). A
// scrape loop's own connection is never idle that long, and Go's client, which Prometheus uses,
// resends a request its reused connection lost before any answer.
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
  /** Each socket error with what the connection had been through: a reset on a reused idle connection is the keep-alive race, one on a new connection is not. */
  socketErrors: { message: string; reused: boolean; connectionAgeMs: number; idleBeforeMs: number | null; requestsBefore: number; waitedMs: number; responseStarted: boolean }[];
  /** Connections opened over the run: one per scraper unless the agent closed some. */
  connections: number;
  /** Scrapes answered 200 whose body did not contain the agent's build info. */
  incomplete: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(load: ScrapeLoad): Promise<ScrapeTally> {
  const secure = load.url.startsWith('https:');
  const ca = secure && load.caFile ? readFileSync(load.caFile) : undefined;
  const newAgent = () => (secure ? new https.Agent({ keepAlive: true, maxSockets: 1, ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const get = secure ? https.get : http.get;
  const auth = load.user === undefined ? {} : { auth: `${load.user}:${load.password ?? ''}` };
  const tally: ScrapeTally = { ok: 0, errors: {}, incomplete: 0, socketErrors: [], connections: 0 };
  // Per connection: when it was opened, when its last answer ended, how many it carried.
  const history = new WeakMap<object, { openedAt: number; lastEndAt: number | null; requests: number }>();
  const fail = (what: string) => (tally.errors[what] = (tally.errors[what] ?? 0) + 1);
  const end = Date.now() + load.seconds * 1000;
  const one = (agent: http.Agent) =>
    new Promise<void>((resolve) => {
      const startedAt = Date.now();
      let responseStarted = false;
      let seen: { idleBeforeMs: number | null; requestsBefore: number } | undefined;
      const req = get(load.url, { agent, ...auth, timeout: 30_000 }, (res) => {
        responseStarted = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = history.get(req.socket!);
          if (h) {
            h.lastEndAt = Date.now();
            h.requests++;
          }
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
      req.on('socket', (socket) => {
        let h = history.get(socket);
        if (!h) {
          h = { openedAt: Date.now(), lastEndAt: null, requests: 0 };
          history.set(socket, h);
          tally.connections++;
        }
        seen = { idleBeforeMs: h.lastEndAt === null ? null : Date.now() - h.lastEndAt, requestsBefore: h.requests };
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', (err) => {
        fail(err.message);
        const h = req.socket ? history.get(req.socket) : undefined;
        tally.socketErrors.push({
          message: err.message,
          reused: req.reusedSocket,
          connectionAgeMs: h ? Date.now() - h.openedAt : 0,
          idleBeforeMs: seen?.idleBeforeMs ?? null,
          requestsBefore: seen?.requestsBefore ?? 0,
          waitedMs: Date.now() - startedAt,
          responseStarted,
        });
        resolve();
      });
    });
  const scraper = async () => {
    const agent = newAgent();
    // Spread over the first second, as scrapers with their own schedules are.
    await sleep(Math.random() * 1000);
    while (Date.now() < end) {
      const t0 = Date.now();
      await one(agent);
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: load.scrapers }, scraper));
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
