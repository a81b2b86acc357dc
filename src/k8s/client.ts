import { errorText } from '../errors.ts';
import { ApiContact } from './contact.ts';
import { RetryingHttpLibrary } from './retry.ts';
import type { Configuration, CoordinationV1Api, CoreV1Api, KubeConfig, RequestContext, ResponseContext, Watch } from '@kubernetes/client-node';

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
  /** Whether the generated clients' calls reach the API server, and since when again. */
  contact: ApiContact;
}

/**
 * Loads the client library on first use: it adds about 70 MiB to the agent's memory, which an
 * agent with no Kubernetes feature enabled should not pay.
 */
export async function createKubeClients(settings: KubernetesSettings): Promise<KubeClients> {
  const k8s = await import('@kubernetes/client-node');
  const { CoordinationV1Api, CoreV1Api, KubeConfig, Watch } = k8s;
  const config = new KubeConfig();
  try {
    if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
    else config.loadFromCluster();
    if (settings.context) config.setCurrentContext(settings.context);
  } catch (err) {
    const where = settings.kubeconfig ? `the kubeconfig ${settings.kubeconfig}` : 'the in-cluster service account';
    throw new Error(`cannot load Kubernetes credentials from ${where}: ${errorText(err)}`, { cause: err });
  }
  const contact = new ApiContact();
  return {
    config,
    core: apiClient(k8s, config, CoreV1Api, contact),
    coordination: apiClient(k8s, config, CoordinationV1Api, contact),
    watch: new Watch(config),
    namespace: settings.namespace,
    contact,
  };
}

/**
 * Every API call is aborted after this long. Probes stop waiting at their own timeout, but the
 * generated client calls take no signal: without this, each request abandoned to an API server
 * that stopped answering would keep its socket open for good.
 */
const REQUEST_TIMEOUT_MS = 15_000;

/** KubeConfig.makeApiClient, plus a timeout on every request, the retries the server asks for, and what the answers say of contact. */
function apiClient<T>(k8s: typeof import('@kubernetes/client-node'), config: KubeConfig, Api: new (c: Configuration) => T, contact: ApiContact): T {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no current cluster');
  const timeout = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      return Promise.resolve(ctx);
    },
    post: (ctx: ResponseContext) => Promise.resolve(ctx),
  };
  // One retrying library for every call: a 429 or 5xx with Retry-After is waited out and sent again, within the timeout.
  const fetchLibrary = new k8s.IsomorphicFetchHttpLibrary();
  const send = async (request: RequestContext): Promise<ResponseContext> => {
    try {
      const response = await fetchLibrary.send(request).toPromise();
      if (response.httpStatusCode >= 500) contact.failed();
      else contact.answered();
      return response;
    } catch (err) {
      contact.failed();
      throw err;
    }
  };
  const httpApi = k8s.wrapHttpLibrary(new RetryingHttpLibrary({ send }));
  return new Api(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: config }, promiseMiddleware: [timeout], httpApi }));
}

/**
 * The agent's clients, built on first use and shared by everything that asks: an agent without a
 * Kubernetes feature never loads the library or reads credentials. A failure is not kept, so
 * credentials that appear later (a mounted Secret) are used by the next call.
 */
export function lazyKubeClients(settings: KubernetesSettings): () => Promise<KubeClients> {
  let clients: Promise<KubeClients> | undefined;
  return () => {
    if (!clients) {
      const p = createKubeClients(settings);
      clients = p;
      p.catch(() => {
        if (clients === p) clients = undefined;
      });
    }
    return clients;
  };
}
