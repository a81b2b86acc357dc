import { readFile } from 'node:fs/promises';
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';

/** How to reach etcd, as configured; files are read when the clients are built. */
export interface EtcdConnectionOptions {
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  auth?: { username: string; password?: string; passwordFile?: string };
  /** Milliseconds to wait for a connection. */
  dialTimeoutMs: number;
}

/** A file named in the configuration that could not be read; its kind says which reason to report. */
export class EtcdSetupError extends Error {
  readonly kind: 'tls' | 'auth';
  constructor(kind: 'tls' | 'auth', message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EtcdSetupError';
    this.kind = kind;
  }
}

async function readSetupFile(kind: 'tls' | 'auth', what: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new EtcdSetupError(kind, `cannot read the etcd ${what} ${file}: ${why}`, { cause: err });
  }
}

/** The Etcd3 options shared by every client of the probe: credentials read from their files. */
export async function connectionSettings(opts: EtcdConnectionOptions): Promise<Omit<IOptions, 'hosts'>> {
  const settings: Omit<IOptions, 'hosts'> = { dialTimeout: opts.dialTimeoutMs };
  const { tls, auth } = opts;
  if (tls) {
    const [ca, cert, key] = await Promise.all([
      tls.caFile ? readSetupFile('tls', 'CA file', tls.caFile) : undefined,
      tls.certFile ? readSetupFile('tls', 'certificate file', tls.certFile) : undefined,
      tls.keyFile ? readSetupFile('tls', 'key file', tls.keyFile) : undefined,
    ]);
    // grpc-js wants a root certificate whenever a client certificate is given; null means the system's CAs.
    settings.credentials = { rootCertificate: ca as Buffer, certChain: cert, privateKey: key };
  }
  if (auth) {
    const password = auth.passwordFile ? (await readSetupFile('auth', 'password file', auth.passwordFile)).toString('utf8').replace(/\r?\n$/, '') : (auth.password ?? '');
    settings.auth = { username: auth.username, password };
  }
  return settings;
}

export const hostUrl = (endpoint: string, tls: boolean) => `${tls ? 'https' : 'http'}://${endpoint}`;

/**
 * A client bound to one member, without retries or circuit breakers: every request goes to that
 * member and its failure is reported as it happened, so a dead or slow member is the one named.
 */
export function memberClient(endpoint: string, settings: Omit<IOptions, 'hosts'>): Etcd3 {
  return new Etcd3({ ...settings, hosts: [hostUrl(endpoint, settings.credentials !== undefined)], faultHandling: { host: () => noop, global: noop } });
}

/** A client over every member, for the lease: its keep-alives move to another member when one dies. */
export function clusterClient(endpoints: readonly string[], settings: Omit<IOptions, 'hosts'>): Etcd3 {
  return new Etcd3({ ...settings, hosts: endpoints.map((e) => hostUrl(e, settings.credentials !== undefined)) });
}
