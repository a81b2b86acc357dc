import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAgent, type Agent, type AgentDeps } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import type { ProbeDefinition } from '../../src/probes/probe.ts';
import { builtinProbes } from '../../src/probes/index.ts';
import { ProbeRegistry } from '../../src/probes/registry.ts';

export interface LocalAgent extends Agent {
  /** Stops the agent and removes its data directory. */
  dispose(): Promise<void>;
}

/** Starts an agent in this process (on 127.0.0.1:0 unless told) from YAML config text, with history in a temp dir. */
export async function startLocalAgent(yaml: string, opts: { probes?: readonly ProbeDefinition[]; deps?: Partial<AgentDeps>; listen?: string; node?: string } = {}): Promise<LocalAgent> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-agent-'));
  const probes = opts.probes ?? builtinProbes;
  try {
    const config = loadConfig({ probes, file: { name: 'test.yml', text: yaml }, flags: { 'web.listen-address': opts.listen ?? '127.0.0.1:0', 'storage.path': dir, 'node.name': opts.node ?? 'test-node' } });
    const agent = await startAgent(config, { registry: new ProbeRegistry(probes), logger: silentLogger(), ...opts.deps });
    return Object.assign(agent, {
      dispose: async () => {
        try {
          await agent.stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
