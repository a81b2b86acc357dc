import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, eventually, spawnAgent, type AgentProcess } from './support/agent-process.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-'));
const started: AgentProcess[] = [];
after(() => {
  for (const a of started) a.kill();
  rmSync(tmp, { recursive: true, force: true });
});

const vigil = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

async function localStatus(url: string) {
  const res = await fetch(`${url}/api/v1/status/local`);
  return (await res.json()) as { verdict: string; probes: { name: string; verdict: string; reason: string | null }[] };
}

describe('vigil check-config', () => {
  it('exits 0 and lists the probes for a valid file', () => {
    const file = path.join(tmp, 'ok.yaml');
    writeFileSync(file, 'probes:\n  node:\n    interval: 15s\n');
    const r = vigil('check-config', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${file}: valid; probes enabled: node`));
  });

  it('exits 2 with the key path and no stack trace for an invalid file', () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, 'probes:\n  node:\n    interval: often\n');
    const r = vigil('check-config', file);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `${file}: probes.node.interval: expected a duration such as "30s" or "5m", got "often"\n`);
    assert.equal(r.stdout, '');
  });

  it('exits 2 on a peer token the agent would refuse: missing, short, the placeholder', () => {
    const tokenFile = path.join(tmp, 'token');
    const file = path.join(tmp, 'token.yaml');
    writeFileSync(file, `peers:\n  tokenFile: ${tokenFile}\n`);
    const fix = '; put a random one in the Secret (openssl rand -hex 32)';
    const cases: [string | undefined, string][] = [
      [undefined, `cannot read the peer token file ${tokenFile}: no such file`],
      ['0123456789', `the peer token in ${tokenFile} is shorter than 16 characters${fix}`],
      ['replace-me-with-a-random-token', `the peer token in ${tokenFile} is the placeholder "replace-me-with-a-random-token"${fix}`],
    ];
    for (const [token, message] of cases) {
      rmSync(tokenFile, { force: true });
      if (token !== undefined) writeFileSync(tokenFile, `${token}\n`);
      const r = vigil('check-config', file);
      assert.equal(r.status, 2, `${token}: ${r.stdout}`);
      assert.equal(r.stderr, `${file}: peers.tokenFile: ${message}\n`);
    }
    writeFileSync(tokenFile, 'e3b0c44298fc1c149afbf4c8996fb924\n');
    assert.equal(vigil('check-config', file).status, 0);
  });

  it('exits 2 naming a file it cannot read', () => {
    const r = vigil('check-config', path.join(tmp, 'missing.yaml'));
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `${path.join(tmp, 'missing.yaml')}: cannot read the config file: no such file\n`);
  });
});

describe('vigil agent', () => {
  it('refuses to start on an invalid config with the same message, exit 2', () => {
    const file = path.join(tmp, 'bad-agent.yaml');
    writeFileSync(file, 'web:\n  listenAddress: nowhere\n');
    const r = vigil('agent', '--config.file', file);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `${file}: web.listenAddress: expected host:port or :port with a port from 0 to 65535, got "nowhere"\n`);
  });

  it('says which address is taken when it cannot listen, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = vigil('agent', '--web.listen-address', `127.0.0.1:${port}`, '--storage.path', path.join(tmp, 'busy'));
      assert.equal(r.status, 1);
      assert.match(r.stdout, new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });

  it('refuses to start with the placeholder peer token, exit 1', () => {
    const tokenFile = path.join(tmp, 'placeholder-token');
    writeFileSync(tokenFile, 'replace-me-with-a-random-token\n');
    const file = path.join(tmp, 'placeholder.yaml');
    writeFileSync(file, `peers:\n  tokenFile: ${tokenFile}\n`);
    const r = vigil('agent', '--config.file', file, '--web.listen-address', '127.0.0.1:0', '--storage.path', path.join(tmp, 'placeholder'));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /cannot start: .*the peer token in .* is the placeholder/);
  });

  it('exits 1 naming a storage path it cannot create, instead of spinning', () => {
    // mkdir under /proc answers ENOENT although /proc exists: Node's recursive mkdir never returns.
    const r = vigil('agent', '--web.listen-address', '127.0.0.1:0', '--storage.path', '/proc/nope');
    assert.equal(r.signal, null, 'ended by itself');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /cannot start: cannot open the history database \/proc\/nope\/history\.db: .*mkdir '\/proc\/nope'/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('shuts down on SIGTERM: exit 0, database closed cleanly', async () => {
    const storage = path.join(tmp, 'sigterm');
    const agent = await spawnAgent({ args: ['--storage.path', storage] });
    started.push(agent);
    await eventually(async () => ((await localStatus(agent.url)).verdict !== 'unknown' ? true : undefined), 20_000, 'first node probe run');
    // No web config in use: no reload status and no certificate expiry to report.
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /vigil_web_config_last_reload_successful|vigil_web_tls_certificate_expiry/);
    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    assert.equal(code, 0);
    assert.ok(agent.logs.some((l) => l.includes('vigil agent stopped')));
    assert.ok(existsSync(path.join(storage, 'history.db')));
    assert.ok(!existsSync(path.join(storage, 'history.db-wal')), 'the WAL was checkpointed and removed on close');
  });

  it('counts an unhandled rejection, logs it and keeps running', async () => {
    // A rejection nothing handles, from a module node loads before the agent, once the agent listens.
    const bug = `data:text/javascript,const t = setInterval(() => { if (process.getActiveResourcesInfo().includes('TCPServerWrap')) { clearInterval(t); Promise.reject(new Error('a bug nobody caught')); } }, 50);`;
    const agent = await spawnAgent({ args: ['--storage.path', path.join(tmp, 'rejection')], nodeFlags: ['--import', bug] });
    started.push(agent);
    await agent.waitForLog(/unhandled rejection \(kept running\)/, 20_000);
    assert.ok(
      agent.logs.some((l) => l.includes('a bug nobody caught')),
      'the error logged',
    );
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(metrics, /^vigil_unhandled_rejections_total 1$/m);
    assert.equal(agent.child.exitCode, null, 'still running');
    agent.kill('SIGTERM');
    assert.equal((await agent.exited).code, 0);
  });

  it('keeps every committed transition through kill -9', async () => {
    const storage = path.join(tmp, 'kill9');
    const watched = path.join(tmp, 'watched');
    mkdirSync(watched);
    const config = `probes:\n  node:\n    interval: 1s\n    timeout: 900ms\n    paths: [${watched}]\n`;
    const agent = await spawnAgent({ config, args: ['--storage.path', storage] });
    started.push(agent);
    const waitFor = (verdict: string) => eventually(async () => ((await localStatus(agent.url)).verdict === verdict ? true : undefined), 20_000, `verdict ${verdict}`);
    await waitFor('ok');
    for (let i = 0; i < 2; i++) {
      rmSync(watched, { recursive: true });
      await waitFor('warning');
      mkdirSync(watched);
      await waitFor('ok');
    }
    agent.kill('SIGKILL');
    assert.equal((await agent.exited).signal, 'SIGKILL');
    assert.ok(existsSync(path.join(storage, 'history.db-wal')), 'killed with the WAL still open');

    const again = await spawnAgent({ config, args: ['--storage.path', storage] });
    started.push(again);
    const res = await fetch(`${again.url}/api/v1/history/local?probe=node&limit=50`);
    const { events } = (await res.json()) as { events: { from: string; to: string; reason: string | null }[] };
    const before = events.slice(-5).reverse(); // the restarted agent may already have added its own first transition
    assert.deepEqual(
      before.map((e) => `${e.from}->${e.to}`),
      ['unknown->ok', 'ok->warning', 'warning->ok', 'ok->warning', 'warning->ok'],
    );
    assert.equal(before[1]!.reason, 'filesystem-unreadable');
    again.kill('SIGTERM');
    await again.exited;
  });
});
