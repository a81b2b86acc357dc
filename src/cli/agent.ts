import { startAgent } from '../agent.ts';
import { errorText } from '../errors.ts';
import { ConfigError, loadConfig, readConfigFile, type Flags } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { builtinProbes } from '../probes/index.ts';
import { ProbeRegistry } from '../probes/registry.ts';

export async function agentCommand(opts: Record<string, string | undefined> & { 'kubernetes.nodeConditions'?: boolean }): Promise<number> {
  const flags: Flags = {
    'web.listen-address': opts['web.listenAddress'],
    'web.config.file': opts['web.config.file'],
    'storage.path': opts['storage.path'],
    'storage.retention': opts['storage.retention'],
    'log.level': opts['log.level'],
    'node.name': opts['node.name'],
    'kubernetes.node-conditions': opts['kubernetes.nodeConditions'] ? 'true' : undefined,
  };
  const file = opts['config.file'];
  let config;
  try {
    config = loadConfig({ probes: builtinProbes, file: file === undefined ? undefined : readConfigFile(file), env: process.env, flags });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) process.stderr.write(`${p}\n`);
    return 2;
  }
  const logger = createLogger(config.log.level);
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  // A bug somewhere: logged and counted (vigil_unhandled_rejections_total, those during the start
  // included), and the agent keeps watching.
  let beforeStart = 0;
  process.on('unhandledRejection', (err) => {
    logger.error({ err }, 'unhandled rejection (kept running)');
    if (agent) agent.metrics.unhandledRejections.inc();
    else beforeStart++;
  });
  try {
    agent = await startAgent(config, { registry: new ProbeRegistry(builtinProbes), logger, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    // The message says what to fix; a stack trace would only bury it.
    logger.fatal(`cannot start: ${errorText(err)}`);
    return 1;
  }
  agent.metrics.unhandledRejections.inc(beforeStart);
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      agent.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
