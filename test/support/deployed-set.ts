// The deployed probe set, as the footprint benchmark and the memory-limit test run it: Kubernetes
// discovery, pod-scheduling, apiserver, control-plane and etcd at their default intervals, against
// the API simulator and a real etcd, serving HTTPS with basic auth as a scraped agent does.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { makeCa, makeCert } from './tls-certs.ts';

export interface WebAuth {
  /** The agent's web config file (web.configFile): TLS and one basic-auth user. */
  webConfigFile: string;
  /** The CA that signed the agent's certificate (for localhost). */
  caFile: string;
  user: string;
  password: string;
}

/** Writes a certificate for localhost and a web config with TLS and a bcrypt-hashed user into dir. */
export function httpsBasicAuth(dir: string): WebAuth {
  const ca = makeCa(dir, 'web-ca');
  const srv = makeCert(dir, 'web-server', ca, 'localhost');
  const user = 'prometheus';
  const password = 's3cret';
  const webConfigFile = path.join(dir, 'web.yml');
  writeFileSync(webConfigFile, stringify({ tls_server_config: { cert_file: srv.cert, key_file: srv.key }, basic_auth_users: { [user]: bcrypt.hashSync(password, 10) } }));
  return { webConfigFile, caFile: ca.cert, user, password };
}

/** The agent's config (YAML) for the deployed probe set. */
export function deployedSetConfig(o: { node: string; storage: string; kubeconfig: string; etcdEndpoint: string; webConfigFile?: string }): string {
  return stringify({
    node: { name: o.node },
    storage: { path: o.storage },
    kubernetes: { kubeconfig: o.kubeconfig, namespace: 'vigil' },
    ...(o.webConfigFile ? { web: { configFile: o.webConfigFile } } : {}),
    probes: { etcd: { enabled: true, endpoints: [o.etcdEndpoint] }, apiserver: { enabled: true }, 'control-plane': { enabled: true }, 'pod-scheduling': { enabled: true } },
    peers: { discovery: ['kubernetes'] },
  });
}
