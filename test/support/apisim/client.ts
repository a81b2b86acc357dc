import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { writeKubeconfig } from './kubeconfig.ts';
import { ApiSim } from './server.ts';

export interface SimWithClient {
  sim: ApiSim;
  /** A kubeconfig for the real client library, pointing at the simulator. */
  kc: KubeConfig;
  core: CoreV1Api;
  /** Stops the simulator and removes the kubeconfig. */
  stop(): Promise<void>;
}

/** A simulator with the given nodes and the real client-node configured to talk to it. */
export async function startSimWithClient(nodes: string[]): Promise<SimWithClient> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-apisim-'));
  const sim = await ApiSim.start({ nodes });
  const kc = new KubeConfig();
  kc.loadFromFile(writeKubeconfig(path.join(dir, 'kubeconfig'), { server: sim.url, token: sim.token }));
  return {
    sim,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    stop: async () => {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
