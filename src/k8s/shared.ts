import type { Config } from '../config/schema.ts';
import { createKubeClients, type KubeClients } from './client.ts';

/** One set of clients per agent (per loaded config), built on first use and shared by every probe. */
const byConfig = new WeakMap<Config, KubeClients>();

/**
 * The agent's Kubernetes clients. Built lazily so an agent without Kubernetes probes never reads
 * credentials; a failure is not cached, so a credential file that appears later is picked up.
 */
export function kubeClientsFor(config: Config): KubeClients {
  let clients = byConfig.get(config);
  if (!clients) {
    clients = createKubeClients(config.kubernetes);
    byConfig.set(config, clients);
  }
  return clients;
}
