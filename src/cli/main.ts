#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { agentCommand } from './agent.ts';
import { checkConfigCommand } from './check-config.ts';
import { statusCommand } from './status.ts';
import { errorText } from '../errors.ts';
import { runtimeProblem } from '../runtime.ts';
import { version } from '../version.ts';

/** Exit codes: 0 fine, 1 a failure at run time (or, for status, a degraded cluster), 2 a usage or config error. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('vigil')
    .description('Cluster-health exporter: exercises etcd, the scheduler, the network and the control plane, and exports what it finds.')
    .version(version)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`vigil: ${str.replace(/^error: /, '')}`) });
  let code = 0;
  program
    .command('agent')
    .description('run the agent: probes, /metrics, the status API and the history')
    .option('--config.file <path>', 'YAML configuration file')
    .option('--web.listen-address <host:port>', 'address for /metrics and the API (default ":10924")')
    .option('--web.config.file <path>', 'web config file (TLS, basic auth), in the format Prometheus exporters share')
    .option('--storage.path <dir>', 'directory of the history database (default "./data")')
    .option('--storage.retention <duration>', 'how long history is kept (default "7d")')
    .option('--log.level <level>', 'trace, debug, info, warn, error or silent (default "info")')
    .option('--node.name <name>', "this node's name (default $NODE_NAME, else the hostname)")
    .option('--kubernetes.node-conditions', 'set Vigil* conditions and events on this node (needs RBAC: deploy/components/node-conditions)')
    .action(async (opts: Record<string, string | undefined> & { 'kubernetes.nodeConditions'?: boolean }) => {
      code = await agentCommand(opts);
    });
  program
    .command('check-config')
    .description('validate a configuration file; exit 0 when valid, 2 otherwise')
    .argument('<file>', 'YAML configuration file')
    .action((file: string) => {
      code = checkConfigCommand(file);
    });
  program
    .command('status')
    .description('print the cluster status as one agent sees it; exit 0 healthy, 1 degraded, 2 undetermined')
    .option('--url <url>', 'the agent to ask', 'http://127.0.0.1:10924')
    .option('--json', 'print the JSON answer instead of a table')
    .option('--local', "only that agent's own node (exit 0 ok, 1 warning or critical, 2 unknown)")
    .option('--token-file <path>', 'file holding the shared peer token (default: /var/run/secrets/vigil/token when it exists, where the DaemonSet mounts it)')
    .action(async (opts: { url: string; json?: boolean; local?: boolean; tokenFile?: string }) => {
      code = await statusCommand(opts);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

const unsupported = runtimeProblem(process.version, process.execPath);
if (unsupported) {
  process.stderr.write(`vigil: ${unsupported}\n`);
  process.exitCode = 1;
} else {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`vigil: ${errorText(err)}\n`);
      process.exitCode = 1;
    },
  );
}
