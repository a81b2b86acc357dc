import { existsSync } from 'node:fs';
import type { CoordinationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';

export interface KubernetesSettings {
  /** Path of a kubeconfig file; absent: the in-cluster service account. */
  kubeconfig?: string;
  /** Context within the kubeconfig; absent: its current context. */
  context?: string;
  /** The namespace vigil runs in (its pods, its probe pods). */
  namespace: string;
}

/** The clients vigil uses, built once from in-cluster config or a kubeconfig. */
export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  watch: Watch;
  namespace: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function inCluster(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(SERVICE_ACCOUNT_TOKEN);
}

/**
 * Loads the client library on first use: it adds about 70 MiB to the agent's memory, which an
 * agent with no Kubernetes feature enabled should not pay.
 */
export async function createKubeClients(settings: KubernetesSettings): Promise<KubeClients> {
  const { CoordinationV1Api, CoreV1Api, KubeConfig, Watch } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
    else config.loadFromCluster();
    if (settings.context) config.setCurrentContext(settings.context);
  } catch (err) {
    const where = settings.kubeconfig ? `the kubeconfig ${settings.kubeconfig}` : 'the in-cluster service account';
    throw new Error(`cannot load Kubernetes credentials from ${where}: ${(err as Error).message}`, { cause: err });
  }
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    watch: new Watch(config),
    namespace: settings.namespace,
  };
}
