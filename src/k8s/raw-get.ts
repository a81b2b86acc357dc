import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

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
  const reqOpts: https.RequestOptions = { method: 'GET', headers: { Accept: 'text/plain' } };
  await config.applyToHTTPSOptions(reqOpts);
  const mod = url.protocol === 'https:' ? https : http;
  const max = opts.maxBytes ?? 64 * 1024;
  return new Promise<RawResponse>((resolve, reject) => {
    const started = opts.now();
    const req = mod.request(url, { ...reqOpts, signal: opts.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= max) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), elapsedMs: opts.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
