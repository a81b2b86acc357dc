import type https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { httpGet } from '../http-get.ts';

export interface RawResponse {
  status: number;
  body: string;
  /** Milliseconds from sending the request to the last byte of the body. */
  elapsedMs: number;
}

/**
 * GET a non-resource path (/livez, /readyz) with the kubeconfig's TLS settings and credentials;
 * the generated clients cover only resources.
 */
export async function rawGet(config: KubeConfig, pathAndQuery: string, opts: { signal: AbortSignal; now: () => number; maxBytes?: number }): Promise<RawResponse> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + pathAndQuery);
  const tls: https.RequestOptions = { headers: {} };
  await config.applyToHTTPSOptions(tls);
  const headers = { ...(tls.headers as Record<string, string>), Accept: 'text/plain' };
  const started = opts.now();
  const res = await httpGet(url, { headers, tls, signal: opts.signal, maxBytes: opts.maxBytes ?? 64 * 1024 });
  return { ...res, elapsedMs: opts.now() - started };
}
