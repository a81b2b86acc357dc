import type { Config } from '../config/schema.ts';
import { createKubeClients, type KubeClients } from './client.ts';

/** One set of clients per agent (per loaded config), built on first use and shared by every probe. */
const byConfig = new WeakMap<Config, Promise<KubeClients>>();

/**
 * The agent's Kubernetes clients. Built lazily so an agent without Kubernetes probes never loads the
 * library or reads credentials; a failure is not kept, so credentials that appear later are used.
 */
export function kubeClientsFor(config: Config): Promise<KubeClients> {
  let clients = byConfig.get(config);
  if (!clients) {
    clients = createKubeClients(config.kubernetes);
    byConfig.set(config, clients);
    clients.catch(() => byConfig.delete(config));
  }
  return clients;
}
