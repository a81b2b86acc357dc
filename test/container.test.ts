// The image, built by `npm run image` and run the way the DaemonSet runs it: read-only root, uid
// 10924, every capability dropped, host network, a writable volume at /var/lib/vigil and the peer
// token mounted where the Secret goes. Checks what an operator would: /metrics, the status page,
// `vigil status` through exec (the mounted token found by default), SIGTERM → exit 0, history kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, eventually } from './support/agent-process.ts';
import { buildImage, podman, removeContainer } from './support/container.ts';
import { freePort } from './support/etcd.ts';

const UID = 10924;
const name = `vigil-test-${process.pid}`;
let image: string;
let dir: string;
let data: string;
let url: string;
let port: number;

// From scratch the base image takes minutes to make (debootstrap); later runs reuse it.
before(() => {
  ({ image } = buildImage());
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-container-'));
  data = path.join(dir, 'data');
  writeFileSync(path.join(dir, 'token'), 'e3b0c44298fc1c149afbf4c8996fb924\n', { mode: 0o444 });
  // The DaemonSet's init container hands the hostPath to the agent's user; so does the test.
  mkdirSync(data);
  chownSync(data, UID, UID);
}, { timeout: 15 * 60_000 });

after(() => {
  removeContainer(name);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function start(): void {
  const config = [
    'peers:',
    '  tokenFile: /var/run/secrets/vigil/token',
    'probes:',
    '  node:',
    '    interval: 2s',
    '    timeout: 1s',
  ].join('\n');
  writeFileSync(path.join(dir, 'config.yaml'), `${config}\n`);
  podman([
    'run', '--detach', '--name', name,
    '--read-only', '--user', String(UID), '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--network', 'host',
    '--volume', `${data}:/var/lib/vigil`,
    '--volume', `${path.join(dir, 'config.yaml')}:/etc/vigil/config.yaml:ro`,
    '--volume', `${path.join(dir, 'token')}:/var/run/secrets/vigil/token:ro`,
    '--env', 'NODE_NAME=container-node',
    image,
    'agent', '--config.file=/etc/vigil/config.yaml', `--web.listen-address=127.0.0.1:${port}`,
  ]);
}

const logs = () => {
  const r = podman(['logs', name], { allowFailure: true });
  return r.stdout + r.stderr;
};

test('the image runs the agent locked down, serves metrics and the page, answers vigil status, stops cleanly on SIGTERM and keeps its history', async () => {
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  start();
  const local = await eventually(async () => {
    const res = await fetch(`${url}/api/v1/status/local`, { headers: { authorization: 'Bearer e3b0c44298fc1c149afbf4c8996fb924' } });
    const body = (await res.json()) as { node: string; verdict: string };
    return body.verdict !== 'unknown' ? body : undefined;
  }, 60_000, 'the agent in the container to run its node probe');
  assert.equal(local.node, 'container-node');

  const inspect = JSON.parse(podman(['inspect', name]).stdout) as { Config: { User: string; Entrypoint: string[] | string }; HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null } }[];
  assert.equal(inspect[0]!.Config.User, String(UID));
  assert.equal(inspect[0]!.HostConfig.ReadonlyRootfs, true);

  const metrics = await (await fetch(`${url}/metrics`)).text();
  const revision = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim() || 'unknown';
  // The image's Node is the one the project runs on (the base image is made from the same npm package).
  assert.match(metrics, new RegExp(`^vigil_build_info\\{version="[^"]+",revision="${revision}",nodejs_version="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  assert.match(metrics, /^vigil_probe_success\{probe="node"\} [01]$/m);
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<section id="verdict"/);
  assert.equal((await fetch(`${url}/ui/app.js`)).status, 200);
  assert.equal((await fetch(`${url}/api/v1/status/local`)).status, 401, 'the peer endpoints want the token');

  // What an operator runs: `kubectl -n vigil exec ds/vigil -- vigil status --local`. No --token-file:
  // the token is read from where the Secret is mounted.
  const status = podman(['exec', name, 'vigil', 'status', '--local', '--url', url], { allowFailure: true });
  assert.ok(status.status === 0 || status.status === 1, `vigil status --local exited ${status.status}: ${status.stdout}${status.stderr}`);
  assert.match(status.stdout, /container-node/);
  assert.match(status.stdout, /\bnode\b/);
  const who = podman(['exec', name, 'sh', '-c', 'id -u; command -v vigil; readlink -f "$(command -v vigil)"']).stdout.trim().split('\n');
  assert.equal(who[0], String(UID));
  assert.equal(who[1], '/usr/local/bin/vigil');

  // SIGTERM, as the kubelet sends it: exit 0 within the grace period.
  podman(['stop', '--time', '20', name]);
  const state = JSON.parse(podman(['inspect', name]).stdout) as { State: { ExitCode: number } }[];
  assert.equal(state[0]!.State.ExitCode, 0, logs());
  assert.match(logs(), /vigil agent stopped/);
  removeContainer(name);

  // The timeline is on the volume: a new container reads the transitions of the old one.
  start();
  const history = await eventually(async () => {
    const res = await fetch(`${url}/api/v1/history/local?probe=node`, { headers: { authorization: 'Bearer e3b0c44298fc1c149afbf4c8996fb924' } });
    const body = (await res.json()) as { events: { time: string }[] };
    return body.events.length > 0 ? body.events : undefined;
  }, 60_000, 'the restarted container to serve its history');
  assert.ok(history.some((e) => Date.parse(e.time) < Date.now() - 1000), 'events from before the restart');
  podman(['stop', '--time', '20', name]);
});
