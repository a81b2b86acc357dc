import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

// Runs inside the namespace: accept on host:port, pipe each connection to the unix socket.
const INSIDE = `
const net = require('node:net');
const [host, port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u).pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(Number(port), host, () => process.stdout.write('ready\\n'));
`;

/**
 * Makes a TCP server of the root namespace (say, the API simulator on 127.0.0.1) reachable at
 * host:port inside a network namespace, through a unix socket: sockets live in the filesystem,
 * which the namespaces share, so no interface or route is added to the root namespace.
 */
export async function relayIntoNamespace(opts: { ns: string; host: string; port: number; target: { host: string; port: number }; dir: string }): Promise<{ close(): Promise<void> }> {
  const sock = path.join(opts.dir, `relay-${opts.port}.sock`);
  const outside = net.createServer((c) => joined(c, net.connect(opts.target.port, opts.target.host)));
  await new Promise<void>((resolve) => outside.listen(sock, resolve));
  const child = spawn('ip', ['netns', 'exec', opts.ns, process.execPath, '-e', INSIDE, opts.host, String(opts.port), sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`relay in ${opts.ns} exited with ${code}: ${err}`)));
  });
  return {
    async close() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      await new Promise<void>((resolve) => outside.close(() => resolve()));
    },
  };
}

// Runs inside the namespace: accept on the unix socket, pipe each connection to host:port.
const INSIDE_OUT = `
const net = require('node:net');
const [sock, host, port] = process.argv.slice(1);
net.createServer((u) => {
  const c = net.connect(Number(port), host);
  u.pipe(c).pipe(u);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(sock, () => process.stdout.write('ready\\n'));
`;

/**
 * The other way round: a TCP server inside a network namespace (say, Prometheus on the
 * namespace's 127.0.0.1) reachable from the root namespace at the returned URL's 127.0.0.1 port,
 * again through a unix socket.
 */
export async function relayOutOfNamespace(opts: { ns: string; host: string; port: number; dir: string }): Promise<{ url: string; close(): Promise<void> }> {
  const sock = path.join(opts.dir, `relay-out-${opts.port}.sock`);
  const child = spawn('ip', ['netns', 'exec', opts.ns, process.execPath, '-e', INSIDE_OUT, sock, opts.host, String(opts.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`relay out of ${opts.ns} exited with ${code}: ${err}`)));
  });
  const outside = net.createServer((c) => joined(c, net.connect(sock)));
  await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(outside.address() as net.AddressInfo).port}`,
    async close() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      await new Promise<void>((resolve) => {
        outside.close(() => resolve());
      });
    },
  };
}

/** Pipes two sockets into each other; either one's end or error ends both. */
function joined(a: net.Socket, b: net.Socket): void {
  a.pipe(b).pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) s.on('error', end).on('close', end);
}
