import { readFile } from 'node:fs/promises';
import type { IOptions } from 'etcd3';
import { fileErrorText } from '../files.ts';
import type { MemberFailureKind } from './verdict.ts';

/** Credentials that cannot be read: the member failures they cause before any request. */
type SetupFailureKind = Extract<MemberFailureKind, 'tls' | 'auth'>;

/** The Etcd3 options every client of the probe shares. */
export type EtcdSettings = Omit<IOptions, 'hosts'>;

/** How to reach etcd, as configured; files are read when the clients are built. */
export interface EtcdConnectionOptions {
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  auth?: { username: string; password?: string; passwordFile?: string };
  /** Milliseconds to wait for a connection. */
  dialTimeoutMs: number;
}

/** A file named in the configuration that could not be read; its kind says which reason to report. */
export class EtcdSetupError extends Error {
  readonly kind: SetupFailureKind;
  constructor(kind: SetupFailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EtcdSetupError';
    this.kind = kind;
  }
}

async function readSetupFile(kind: SetupFailureKind, what: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new EtcdSetupError(kind, `cannot read the etcd ${what} ${file}: ${fileErrorText(err)}`, { cause: err });
  }
}

/** The Etcd3 options shared by every client of the probe: credentials read from their files. */
export async function connectionSettings(opts: EtcdConnectionOptions): Promise<EtcdSettings> {
  const settings: EtcdSettings = { dialTimeout: opts.dialTimeoutMs };
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
