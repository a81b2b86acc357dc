// The API simulator as a process, for the local demo:
//   node --import tsx test/support/apisim/main.ts --listen 127.0.0.1:PORT [--nodes a,b,c] [--kubeconfig FILE]
// It prints its URL on the first line; faults are set over HTTP under /_sim/ (GET /_sim/state to look).
import { parseArgs } from 'node:util';
import { writeKubeconfig } from './kubeconfig.ts';
import { ApiSim } from './server.ts';

function usage(message: string): never {
  process.stderr.write(`apisim: ${message}\nusage: apisim --listen HOST:PORT [--nodes a,b,c] [--token TOKEN] [--kubeconfig FILE]\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { listen: { type: 'string', default: '127.0.0.1:0' }, nodes: { type: 'string', default: '' }, token: { type: 'string' }, kubeconfig: { type: 'string' } }, strict: true }).values;
} catch (err) {
  usage((err as Error).message);
}
const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(args.listen);
if (!m || Number(m[3]) > 65535) usage(`--listen: expected HOST:PORT, got ${JSON.stringify(args.listen)}`);
const nodes = args.nodes
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const bad = nodes.find((n) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n));
if (bad) usage(`--nodes: "${bad}" is not a valid node name`);

try {
  const sim = await ApiSim.start({ host: m[1] ?? m[2], port: Number(m[3]), nodes, ...(args.token ? { token: args.token } : {}) });
  if (args.kubeconfig) writeKubeconfig(args.kubeconfig, { server: sim.url, token: sim.token });
  process.stdout.write(`${sim.url}\n`);
  const shutdown = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
} catch (err) {
  process.stderr.write(`apisim: cannot listen on ${args.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
  process.exit(1);
}
