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
  const outside = net.createServer((c) => {
    const t = net.connect(opts.target.port, opts.target.host);
    c.pipe(t).pipe(c);
    const end = () => {
      c.destroy();
      t.destroy();
    };
    c.on('error', end);
    t.on('error', end);
    c.on('close', end);
    t.on('close', end);
  });
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
