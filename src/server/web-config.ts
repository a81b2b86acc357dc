import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describe } from '../config/fields.ts';
import { ConfigError, formatPath, issueMessage, parseYaml } from '../config/load.ts';
import { fileErrorText } from '../files.ts';
import { CIPHER_SUITES, CURVES, TLS_VERSIONS, type TlsVersionName } from './tls-names.ts';

/**
 * The web configuration file Prometheus exporters share (exporter-toolkit's web-config.yml):
 * TLS for the HTTP endpoints, basic auth users and extra response headers.
 */

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** Response headers an operator may set, with the values allowed where the set is closed (as exporter-toolkit). */
const EXTRA_HEADERS: Record<string, readonly string[] | null> = {
  'strict-transport-security': null,
  'x-content-type-options': ['nosniff'],
  'x-frame-options': ['deny', 'sameorigin'],
  'x-xss-protection': null,
  'content-security-policy': null,
};

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const enumOf = <T extends string>(values: readonly T[]) =>
  z.string({ error: (iss) => `expected one of ${values.join(', ')}, got ${describe(iss.input)}` }).refine((s): s is T => (values as readonly string[]).includes(s), {
    error: (iss) => `expected one of ${values.join(', ')}, got ${describe(iss.input)}`,
  });

const file = z.string().min(1, 'must not be empty');
const tlsVersion = enumOf(Object.keys(TLS_VERSIONS) as TlsVersionName[]);

const tlsSchema = z
  .strictObject({
    cert_file: file,
    key_file: file,
    client_auth_type: enumOf(CLIENT_AUTH_TYPES).default('NoClientCert'),
    client_ca_file: file.optional(),
    min_version: tlsVersion.default('TLS12'),
    max_version: tlsVersion.default('TLS13'),
    cipher_suites: z
      .array(enumOf(Object.keys(CIPHER_SUITES)))
      .min(1)
      .optional(),
    prefer_server_cipher_suites: z.boolean().default(true),
    curve_preferences: z
      .array(enumOf(Object.keys(CURVES)))
      .min(1)
      .optional(),
  })
  .superRefine((t, ctx) => {
    const verifies = t.client_auth_type === 'VerifyClientCertIfGiven' || t.client_auth_type === 'RequireAndVerifyClientCert';
    if (verifies && t.client_ca_file === undefined) ctx.addIssue({ code: 'custom', path: ['client_ca_file'], message: `is required when client_auth_type is ${t.client_auth_type}` });
    if (t.client_ca_file !== undefined && t.client_auth_type === 'NoClientCert') {
      ctx.addIssue({ code: 'custom', path: ['client_auth_type'], message: 'client_ca_file is set but client_auth_type is NoClientCert; set VerifyClientCertIfGiven or RequireAndVerifyClientCert' });
    }
    // Runs even when a field above failed its own check: look the versions up defensively.
    const versions: Partial<Record<string, { rank: number }>> = TLS_VERSIONS;
    const min = versions[t.min_version];
    const max = versions[t.max_version];
    if (min && max && min.rank > max.rank) {
      ctx.addIssue({ code: 'custom', path: ['min_version'], message: `must not be above max_version (${t.max_version}), got ${t.min_version}` });
    }
  });

const headersSchema = z.record(z.string(), z.string({ error: (iss) => `expected a string, got ${describe(iss.input)}` })).superRefine((h, ctx) => {
  for (const [name, value] of Object.entries(h)) {
    const allowed = EXTRA_HEADERS[name.toLowerCase()];
    if (allowed === undefined) {
      ctx.addIssue({ code: 'custom', path: [name], message: `this header cannot be configured (allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)` });
    } else if (allowed !== null && !allowed.includes(value.toLowerCase())) {
      ctx.addIssue({ code: 'custom', path: [name], message: `expected one of ${allowed.join(', ')}, got ${describe(value)}` });
    } else if (/[\r\n\0]/.test(value)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'must not contain line breaks' });
    }
  }
});

const usersSchema = z.record(z.string(), z.unknown()).superRefine((users, ctx) => {
  for (const [user, hash] of Object.entries(users)) {
    if (user === '' || user.includes(':')) ctx.addIssue({ code: 'custom', path: [user], message: 'a user name must be non-empty and contain no ":"' });
    // Never echo the value: a plain password put here by mistake must not reach a log.
    else if (typeof hash !== 'string' || !BCRYPT.test(hash)) {
      ctx.addIssue({ code: 'custom', path: [user], message: `expected a bcrypt hash ($2a$, $2b$ or $2y$ with cost 4-31), got ${typeof hash === 'string' ? `a string of ${hash.length} characters` : describe(hash)}` });
    }
  }
});

const webConfigSchema = z.strictObject({
  tls_server_config: tlsSchema.optional(),
  http_server_config: z
    .strictObject({
      /** Accepted so shared files load; vigil serves HTTP/1.1. */
      http2: z.boolean().optional(),
      headers: headersSchema.optional(),
    })
    .optional(),
  basic_auth_users: usersSchema.optional(),
});

export type WebConfigFile = z.output<typeof webConfigSchema>;

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** When the certificate stops being valid (ms since the epoch). */
  notAfter: number;
}

/** A validated web configuration, with its files read: what the server needs to apply it. */
export interface WebConfig {
  /** The web config file itself and every file it names: a change to any of them triggers a reload. */
  files: string[];
  tls?: {
    material: TlsMaterial;
    clientAuth: ClientAuthType;
    minVersion: TlsVersionName;
    maxVersion: TlsVersionName;
    cipherSuites?: string[];
    preferServerCipherSuites: boolean;
    curves?: string[];
  };
  /** User → bcrypt hash; empty: no authentication. */
  users: Map<string, string>;
  headers: Record<string, string>;
}

/** Validates the text of a web config file; paths in it are relative to the file's directory. */
export function parseWebConfig(name: string, text: string, readFile: (p: string) => Buffer = readFileSync): WebConfig {
  const raw = parseYaml(name, text);
  const result = webConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(result.error.issues.map((iss) => `${name}: ${iss.path.length > 0 ? `${formatPath(iss.path)}: ` : ''}${issueMessage(iss)}`));
  const c = result.data;
  const dir = path.dirname(name);
  const files = [name];
  const problems: string[] = [];
  const read = (key: string, p: string): Buffer | undefined => {
    const full = path.resolve(dir, p);
    files.push(full);
    try {
      return readFile(full);
    } catch (err) {
      problems.push(`${name}: tls_server_config.${key}: cannot read ${shown(full)}: ${fileErrorText(err)}`);
      return undefined;
    }
  };
  let tls: WebConfig['tls'];
  if (c.tls_server_config) {
    const t = c.tls_server_config;
    const cert = read('cert_file', t.cert_file);
    const key = read('key_file', t.key_file);
    const ca = t.client_ca_file === undefined ? undefined : read('client_ca_file', t.client_ca_file);
    let x509: X509Certificate | undefined;
    let keyObject: KeyObject | undefined;
    if (cert) x509 = parsePem(() => new X509Certificate(cert), `${name}: tls_server_config.cert_file: not a PEM certificate`, problems);
    if (key) keyObject = parsePem(() => createPrivateKey(key), `${name}: tls_server_config.key_file: not a PEM private key (or it is encrypted)`, problems);
    if (ca) parsePem(() => new X509Certificate(ca), `${name}: tls_server_config.client_ca_file: not a PEM certificate`, problems);
    if (x509 && keyObject && !x509.checkPrivateKey(keyObject)) problems.push(`${name}: tls_server_config.key_file: the key does not belong to the certificate in cert_file`);
    if (problems.length === 0 && cert && key && x509) {
      tls = {
        material: { cert, key, ca, notAfter: Date.parse(x509.validTo) },
        clientAuth: t.client_auth_type,
        minVersion: t.min_version,
        maxVersion: t.max_version,
        cipherSuites: t.cipher_suites?.map((s) => CIPHER_SUITES[s]!).filter((s) => s !== ''),
        preferServerCipherSuites: t.prefer_server_cipher_suites,
        curves: t.curve_preferences?.map((s) => CURVES[s]!),
      };
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { files, tls, users: new Map(Object.entries((c.basic_auth_users ?? {}) as Record<string, string>)), headers: c.http_server_config?.headers ?? {} };
}

/** A path as written, unless it is long or holds control characters. */
function shown(text: string): string {
  const control = [...text].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');
  return text.length > 120 || control ? describe(text) : text;
}

function parsePem<T>(parse: () => T, message: string, problems: string[]): T | undefined {
  try {
    return parse();
  } catch {
    problems.push(message);
    return undefined;
  }
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the web config file: ${fileErrorText(err)}`]);
  }
  return parseWebConfig(file, text);
}
