import { errorText } from '../errors.ts';
import type { KubeClients } from '../k8s/client.ts';
import type { ProbeResult } from '../verdict.ts';

/**
 * What every Kubernetes probe does first: get the agent's clients. Credentials that cannot be
 * loaded are the run's verdict ("api-error", naming the file), not a throw; the next run asks again,
 * so credentials that appear later are used.
 */
export async function withKubeClients(kubernetes: () => Promise<KubeClients>, body: (k: KubeClients) => Promise<ProbeResult>): Promise<ProbeResult> {
  let k: KubeClients;
  try {
    k = await kubernetes();
  } catch (err) {
    return { verdict: 'critical', reason: 'api-error', message: errorText(err) };
  }
  return body(k);
}
