import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startAgent, type Agent } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { builtinProbes } from '../../src/probes/index.ts';
import { ProbeRegistry } from '../../src/probes/registry.ts';
import { removeDir } from './peer-agents.ts';

/** An agent started in this process from a config mapping, with its own temp dir removed on stop. */
export async function startTestAgent(name: string, config: Record<string, unknown>): Promise<Agent & { dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vigil-${name}-`));
  const text = stringify({ web: { listenAddress: '127.0.0.1:0' }, storage: { path: dir }, ...config, node: { name } });
  const agent = await startAgent(loadConfig({ probes: builtinProbes, file: { name: 'test.yaml', text } }), { registry: new ProbeRegistry(builtinProbes), logger: silentLogger() });
  return {
    ...agent,
    dir,
    stop: async () => {
      await agent.stop();
      removeDir(dir);
    },
  };
}
