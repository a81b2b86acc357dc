// The images, built by `npm run image` for amd64 and arm64 and run the way the DaemonSet runs them:
// the init container's own command hands the data directory to the agent's user, then the agent
// runs with a read-only root, uid 10924, every capability dropped, host network, a writable volume
// at /var/lib/vigil and the peer token mounted where the Secret goes. Checks what an operator would:
// /metrics, the status page, `vigil status` through exec (no shell in the image; the mounted token
// found by default), SIGTERM → exit 0, history kept across containers. The image for the other
// architecture runs under qemu-user-static (binfmt_misc): slow, but the same checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { REPO, eventually } from './support/agent-process.ts';
import { IMAGE, buildImage, podman, removeContainer } from './support/container.ts';
import { freePort } from './support/etcd.ts';
import { K8sProbeEnv } from './support/k8s-probe-env.ts';

const UID = 10924;
const TOKEN = 'e3b0c44298fc1c149afbf4c8996fb924';
type Arch = 'amd64' | 'arm64';
const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const OTHER_ARCH: Arch = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';
const QEMU = { arm64: 'qemu-aarch64', amd64: 'qemu-x86_64' } as const;
let dir: string;
let built: string;

before(
  () => {
    built = buildImage().output;
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-container-'));
    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o444 });
    const config = ['peers:', '  tokenFile: /var/run/secrets/vigil/token', 'probes:', '  node:', '    interval: 2s', '    timeout: 1s'];
    writeFileSync(path.join(dir, 'config.yaml'), `${config.join('\n')}\n`);
  },
  { timeout: 5 * 60_000 },
);

after(() => {
  for (const arch of [HOST_ARCH, OTHER_ARCH]) removeContainer(containerName(arch));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function containerName(arch: string): string {
  return `vigil-test-${process.pid}-${arch}`;
}

/** The DaemonSet's two containers, as deploy/base has them. */
const daemonSet = ((): { init: { command: string[] }; agent: { args: string[] } } => {
  const ds = YAML.parseAllDocuments(readFileSync(path.join(REPO, 'deploy/base/daemonset.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { initContainers: { command: string[] }[]; containers: { args: string[] }[] } } } })
    .find((d) => d.kind === 'DaemonSet');
  const spec = ds!.spec!.template.spec;
  return { init: spec.initContainers[0]!, agent: spec.containers[0]! };
})();

const platforms: { arch: Arch; image: string; emulated: boolean }[] = [
  { arch: HOST_ARCH, image: IMAGE, emulated: false },
  { arch: OTHER_ARCH, image: `${IMAGE}-${OTHER_ARCH}`, emulated: true },
];

for (const { arch, image, emulated } of platforms) {
  const name = containerName(arch);
  // Under emulation Node starts in seconds rather than milliseconds and runs several times slower.
  const waitMs = emulated ? 5 * 60_000 : 60_000;
  const podmanTimeout = emulated ? 5 * 60_000 : 120_000;
  const data = () => path.join(dir, `data-${arch}`);
  const start = (port: number) =>
    podman(
      [
        'run',
        '--detach',
        '--name',
        name,
        '--platform',
        `linux/${arch}`,
        '--read-only',
        '--user',
        String(UID),
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges',
        '--network',
        'host',
        '--volume',
        `${data()}:/var/lib/vigil`,
        '--volume',
        `${path.join(dir, 'config.yaml')}:/etc/vigil/config.yaml:ro`,
        '--volume',
        `${path.join(dir, 'token')}:/var/run/secrets/vigil/token:ro`,
        '--env',
        `NODE_NAME=container-node-${arch}`,
        image,
        ...daemonSet.agent.args,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { timeoutMs: podmanTimeout },
    );
  const logs = () => {
    const r = podman(['logs', name], { allowFailure: true });
    return r.stdout + r.stderr;
  };
  const exec = (args: string[], allowFailure = false) => podman(['exec', name, ...args], { allowFailure, timeoutMs: podmanTimeout });

  test(
    `the ${arch} image${emulated ? ` (under ${QEMU[arch]})` : ''} runs the agent locked down, serves metrics and the page, answers vigil status, stops cleanly on SIGTERM and keeps its history`,
    { timeout: emulated ? 20 * 60_000 : 5 * 60_000 },
    async () => {
      if (emulated) {
        const handler = `/proc/sys/fs/binfmt_misc/${QEMU[arch]}`;
        let registered = '';
        try {
          registered = readFileSync(handler, 'utf8');
        } catch {
          assert.fail(`${handler} is missing: the kernel cannot run ${arch} programs. Install qemu-user-static and binfmt-support, mount binfmt_misc and run update-binfmts --enable ${QEMU[arch]} (scripts/test.sh does, as root)`);
        }
        assert.match(registered, /^enabled$/m, `${handler} is disabled: update-binfmts --enable ${QEMU[arch]}`);
      }

      // The init container: as root with CAP_CHOWN only, its command exactly as the DaemonSet has it.
      mkdirSync(data(), { recursive: true });
      const [command, ...args] = daemonSet.init.command;
      podman(
        [
          'run',
          '--rm',
          '--platform',
          `linux/${arch}`,
          '--read-only',
          '--user',
          '0',
          '--cap-drop',
          'ALL',
          '--cap-add',
          'CHOWN',
          '--security-opt',
          'no-new-privileges',
          '--volume',
          `${data()}:/var/lib/vigil`,
          '--entrypoint',
          command!,
          image,
          ...args,
        ],
        { timeoutMs: podmanTimeout },
      );
      assert.equal(statSync(data()).uid, UID, 'the init container handed the data directory to the agent');

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      start(port);
      const local = await eventually(
        async () => {
          const res = await fetch(`${url}/api/v1/status/local`, { headers: { authorization: `Bearer ${TOKEN}` } });
          const body = (await res.json()) as { node: string; verdict: string };
          return body.verdict !== 'unknown' ? body : undefined;
        },
        waitMs,
        `the agent in the ${arch} container to run its node probe`,
      );
      assert.equal(local.node, `container-node-${arch}`);

      const inspect = JSON.parse(podman(['inspect', name]).stdout) as { Config: { User: string }; HostConfig: { ReadonlyRootfs: boolean } }[];
      assert.equal(inspect[0]!.Config.User, String(UID));
      assert.equal(inspect[0]!.HostConfig.ReadonlyRootfs, true);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      const revision = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim() || 'unknown';
      // The image's Node is the one the project runs on (the base image is made from the same version).
      assert.match(metrics, new RegExp(`^vigil_build_info\\{version="[^"]+",revision="${revision}",nodejs_version="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
      assert.match(metrics, /^vigil_probe_success\{probe="node"\} [01]$/m);
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<section id="verdict"/);
      assert.equal((await fetch(`${url}/ui/app.js`)).status, 200);
      assert.equal((await fetch(`${url}/api/v1/status/local`)).status, 401, 'the peer endpoints want the token');

      // What an operator runs: `kubectl -n vigil exec ds/vigil -- vigil status --local`, exec form.
      // No --token-file: the token is read from where the Secret is mounted.
      const status = exec(['vigil', 'status', '--local', '--url', url], true);
      assert.ok(status.status === 0 || status.status === 1, `vigil status --local exited ${status.status}: ${status.stdout}${status.stderr}`);
      assert.match(status.stdout, new RegExp(`container-node-${arch}`));
      assert.match(status.stdout, /\bnode\b/);
      // The agent runs on that architecture, as uid 10924, with the bundle's V8 flags; there is no shell.
      const self = JSON.parse(
        exec(['node', '-e', 'const fs=require("node:fs");console.log(JSON.stringify({arch:process.arch,uid:process.getuid(),agent:fs.readFileSync("/proc/1/cmdline","utf8").split("\\0").filter(Boolean)}))']).stdout,
      ) as { arch: string; uid: number; agent: string[] };
      assert.equal(self.arch, arch === 'amd64' ? 'x64' : 'arm64');
      assert.equal(self.uid, UID);
      const shebang = readFileSync(path.join(REPO, 'dist/vigil.mjs'), 'utf8').split('\n', 1)[0]!;
      const NODE_FLAGS = shebang.replace(/^#!\/usr\/bin\/env -S node /, '').split(' ');
      // Under binfmt_misc's P flag the emulator shows first, then the program's path, then its own argv.
      const argv = emulated && self.agent[0]!.includes('qemu') ? self.agent.slice(2) : self.agent;
      assert.deepEqual(argv.slice(0, NODE_FLAGS.length + 2), ['/nodejs/bin/node', ...NODE_FLAGS, '/usr/lib/vigil/vigil.mjs']);
      const shell = exec(['sh', '-c', 'true'], true);
      assert.notEqual(shell.status, 0);
      assert.match(shell.stderr, /"sh": executable file not found in \$PATH/);

      // SIGTERM, as the kubelet sends it: exit 0 within the grace period.
      podman(['stop', '--time', '20', name], { timeoutMs: podmanTimeout });
      const state = JSON.parse(podman(['inspect', name]).stdout) as { State: { ExitCode: number } }[];
      assert.equal(state[0]!.State.ExitCode, 0, logs());
      assert.match(logs(), /vigil agent stopped/);
      removeContainer(name);

      // The timeline is on the volume: a new container reads the transitions of the old one.
      start(port);
      const history = await eventually(
        async () => {
          const res = await fetch(`${url}/api/v1/history/local?probe=node`, { headers: { authorization: `Bearer ${TOKEN}` } });
          const body = (await res.json()) as { events: { time: string }[] };
          return body.events.length > 0 ? body.events : undefined;
        },
        waitMs,
        `the restarted ${arch} container to serve its history`,
      );
      assert.ok(
        history.some((e) => Date.parse(e.time) < Date.now() - 1000),
        'events from before the restart',
      );
      podman(['stop', '--time', '20', name], { timeoutMs: podmanTimeout });
      removeContainer(name);
    },
  );
}

test('the image holds Node, the C and C++ runtime, CA certificates and the bundle: no shell, no package manager, at most 16 MiB beside Node', () => {
  assert.match(built, new RegExp(`built ${IMAGE.replace(/[.:]/g, '\\$&')}-amd64`));
  assert.match(built, new RegExp(`built ${IMAGE.replace(/[.:]/g, '\\$&')}-arm64`));
  for (const arch of ['amd64', 'arm64']) {
    const id = podman(['create', '--platform', `linux/${arch}`, `${IMAGE}-${arch}`]).stdout.trim();
    try {
      const tar = spawnSync('bash', ['-c', `podman export ${id} | tar -tv --numeric-owner`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.equal(tar.status, 0, tar.stderr);
      const entries = tar.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const f = line.split(/\s+/);
          return {
            type: line[0],
            size: Number(f[2]),
            path: `/${f
              .slice(5)
              .join(' ')
              .replace(/^\.\//, '')
              .replace(/ -> .*/, '')}`.replace(/\/$/, ''),
          };
        });
      const files = new Map(entries.filter((e) => e.type === '-').map((e) => [e.path, e.size]));
      for (const p of ['/nodejs/bin/node', '/usr/lib/vigil/vigil.mjs', '/usr/local/bin/vigil', '/etc/ssl/certs/ca-certificates.crt', '/etc/passwd', '/var/lib/dpkg/status.d/libc6']) {
        assert.ok(files.has(p), `${arch}: ${p} is in the image`);
      }
      const executables = entries.filter((e) => e.type !== 'd' && /\/s?bin\//.test(e.path)).map((e) => e.path);
      assert.deepEqual(executables.sort(), ['/nodejs/bin/node', '/usr/local/bin/vigil'], `${arch}: the only programs are node and the vigil launcher`);
      for (const p of ['/bin/sh', '/bin/bash', '/usr/bin/apt-get', '/usr/bin/dpkg', '/bin/busybox']) assert.ok(!entries.some((e) => e.path === p), `${arch}: no ${p}`);
      const rest = [...files].filter(([p]) => p !== '/nodejs/bin/node').reduce((sum, [, size]) => sum + size, 0);
      assert.ok(rest <= 16 * 1024 * 1024, `${arch}: ${(rest / 1024 / 1024).toFixed(1)} MiB beside Node, more than 16 MiB`);
    } finally {
      podman(['rm', id], { allowFailure: true });
    }
  }
});

/**
 * A projected service-account volume as the kubelet writes it (pkg/volume/util/atomic_writer.go):
 * the files in a timestamped directory, `..data` a symlink to it, each name a symlink through
 * `..data`; an update writes a new directory, swaps `..data` in one rename and removes the old one.
 */
class ProjectedVolume {
  #n = 0;
  #current: string | undefined;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  write(files: Record<string, string>): void {
    const ts = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}.${++this.#n}`;
    mkdirSync(path.join(this.dir, ts));
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(this.dir, ts, name), content, { mode: 0o644 });
    symlinkSync(ts, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) if (!existsSync(path.join(this.dir, name))) symlinkSync(`..data/${name}`, path.join(this.dir, name));
    if (this.#current) rmSync(path.join(this.dir, this.#current), { recursive: true });
    this.#current = ts;
  }
}

test(`the ${HOST_ARCH} image with in-cluster credentials as the DaemonSet mounts them: HTTPS to the API server, its token rotated by the kubelet, no 401 after the old one expires`, { timeout: 5 * 60_000 }, async () => {
  const env = await K8sProbeEnv.start({ nodes: ['ic-node'], https: true });
  const name = containerName('in-cluster');
  try {
    // The service account's projected volume: token, ca.crt and namespace.
    const sa = new ProjectedVolume(path.join(dir, 'serviceaccount'));
    const caCrt = readFileSync(env.caFile!, 'utf8');
    const first = env.sim.token;
    sa.write({ token: first, 'ca.crt': caCrt, namespace: 'vigil' });
    // The shipped configuration, with what this machine has no stand-in for left out (the node's
    // filesystems at /host, cluster DNS) and the health checks every 2 s so the test sees several.
    const config = YAML.parse(readFileSync(path.join(REPO, 'deploy/base/config.yaml'), 'utf8')) as { probes: Record<string, Record<string, unknown>>; storage: Record<string, unknown> };
    config.probes.node = { enabled: false };
    config.probes.dns = { enabled: false };
    config.probes.apiserver = { enabled: true, interval: '2s', timeout: '1800ms' };
    writeFileSync(path.join(dir, 'in-cluster.yaml'), YAML.stringify(config));
    const data = path.join(dir, 'data-in-cluster');
    mkdirSync(data, { recursive: true });
    chownSync(data, UID, UID);
    const port = await freePort();
    const apiPort = new URL(env.sim.url).port;
    podman([
      'run',
      '--detach',
      '--name',
      name,
      '--read-only',
      '--user',
      String(UID),
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--network',
      'host',
      '--volume',
      `${data}:/var/lib/vigil`,
      '--volume',
      `${path.join(dir, 'in-cluster.yaml')}:/etc/vigil/config.yaml:ro`,
      '--volume',
      `${path.join(dir, 'token')}:/var/run/secrets/vigil/token:ro`,
      '--volume',
      `${sa.dir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
      // What the kubelet sets in every container, and the DaemonSet's own from the downward API.
      '--env',
      'KUBERNETES_SERVICE_HOST=127.0.0.1',
      '--env',
      `KUBERNETES_SERVICE_PORT=${apiPort}`,
      '--env',
      'NODE_NAME=ic-node',
      '--env',
      'POD_IP=127.0.0.1',
      '--env',
      'HOST_IP=127.0.0.1',
      '--env',
      'POD_NAMESPACE=vigil',
      IMAGE,
      ...daemonSet.agent.args,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    const probes = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/status/local`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.json()) as { probes: { name: string; verdict: string; message: string }[] };
      return Object.fromEntries(body.probes.map((p) => [p.name, p]));
    };
    const allOk = async () => {
      const p = await probes().catch(() => undefined);
      return p && ['apiserver', 'control-plane', 'pod-scheduling'].every((n) => p[n]?.verdict === 'ok') ? p : undefined;
    };
    await eventually(allOk, 90_000, 'apiserver, control-plane and pod-scheduling ok in the container, with in-cluster credentials').catch((err: Error) => {
      const r = podman(['logs', name], { allowFailure: true });
      throw new Error(`${err.message}\n${r.stdout}${r.stderr}`);
    });
    assert.ok(
      env.sim.requests.some((q) => q.verb === 'create' && q.resource === 'pods' && q.namespace === 'vigil' && q.code === 201),
      'a probe pod created in the namespace the volume names',
    );

    // The kubelet rotates the token (a new one valid beside the old), then the old one expires.
    // client-node reads the token file again once its copy is a minute old.
    env.sim.addToken('rotated-in-container');
    sa.write({ token: 'rotated-in-container', 'ca.crt': caCrt, namespace: 'vigil' });
    const rotatedAt = Date.now();
    await eventually(() => (Date.now() - rotatedAt > 65_000 ? true : undefined), 90_000, 'a minute and a bit for the token file to be read again');
    env.sim.expireToken(first);
    const expiredAt = Date.now();
    await eventually(() => (env.sim.requests.filter((q) => q.at > expiredAt && q.path === '/livez').length >= 3 ? true : undefined), 30_000, 'three health checks after the old token expired');
    await eventually(allOk, 30_000, 'every Kubernetes probe still ok');
    const refused = env.sim.requests.filter((q) => q.at > expiredAt && q.code === 401);
    assert.deepEqual(
      refused.map((q) => `${q.method} ${q.path}`),
      [],
      'no request with the expired token',
    );
  } finally {
    removeContainer(name);
    await env.stop();
  }
});
