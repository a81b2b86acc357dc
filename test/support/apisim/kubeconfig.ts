import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * Writes a kubeconfig that points at the simulator with a token user: with `caFile`, the server's
 * certificate is checked against that CA; without, TLS is not verified (plain HTTP).
 */
export function writeKubeconfig(file: string, opts: { server: string; token: string; namespace?: string; caFile?: string }): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'apisim', cluster: opts.caFile ? { server: opts.server, 'certificate-authority': opts.caFile } : { server: opts.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'vigil', user: { token: opts.token } }],
    contexts: [{ name: 'apisim', context: { cluster: 'apisim', user: 'vigil', namespace: opts.namespace ?? 'vigil' } }],
    'current-context': 'apisim',
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}
