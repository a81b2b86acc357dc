import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { errorText } from '../errors.ts';
import { fileErrorText } from '../files.ts';
import { describe, quoteKeys } from './fields.ts';
import { buildConfigSchema, type Config, type ProbeSchemaSource } from './schema.ts';

/** A configuration that cannot be used; each problem names the key path and what was expected. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Command-line flags that override file values, keyed by the config path they set. */
export const FLAG_PATHS = {
  'web.listen-address': 'web.listenAddress',
  'web.config.file': 'web.configFile',
  'storage.path': 'storage.path',
  'storage.retention': 'storage.retention',
  'log.level': 'log.level',
  'node.name': 'node.name',
  'kubernetes.node-conditions': 'kubernetes.nodeConditions',
} as const;
/** Flags that take no value: set means true. */
const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['kubernetes.node-conditions']);
export type Flags = Partial<Record<keyof typeof FLAG_PATHS, string>>;

/** Environment variables the DaemonSet sets from the downward API. */
export const ENV_PATHS = { NODE_NAME: 'node.name', POD_IP: 'node.podIP', HOST_IP: 'node.hostIP', POD_NAMESPACE: 'kubernetes.namespace' } as const;

export interface LoadOptions {
  probes: readonly ProbeSchemaSource[];
  /** YAML text and the name to report it by; absent: defaults only. */
  file?: { name: string; text: string };
  env?: Record<string, string | undefined>;
  flags?: Flags;
}

export function readConfigFile(path: string): { name: string; text: string } {
  try {
    return { name: path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the config file: ${fileErrorText(err)}`]);
  }
}

/** Parses YAML text into a plain value, or throws ConfigError naming the line and column. */
export function parseYaml(name: string, text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? `${name}:${pos.line}:${pos.col}` : name;
        return `${where}: invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new ConfigError([`${name}: invalid YAML: ${errorText(err)}`]);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let obj = target;
  for (const key of keys.slice(0, -1)) {
    const next = obj[key];
    if (next === undefined || next === null) obj = obj[key] = {};
    else if (typeof next === 'object' && !Array.isArray(next)) obj = next as Record<string, unknown>;
    else return; // the schema will report the wrong type at this key
  }
  obj[keys.at(-1)!] = value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    // Keys from the file are shown as written unless they are long or hold unusual characters.
    else if (typeof key === 'symbol' || !/^[\w:/@$-]{1,60}$/.test(key)) out += `[${describe(String(key))}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

export function issueMessage(iss: z.core.$ZodIssue): string {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      if (iss.message && !iss.message.startsWith('Invalid input')) return iss.message;
      return `expected ${iss.expected === 'object' ? 'a mapping' : iss.expected === 'array' ? 'a list' : `a ${iss.expected}`}, got ${describe(iss.input)}`;
    case 'unrecognized_keys':
      return iss.message.startsWith('Unrecognized key') ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${quoteKeys(iss.keys)}` : iss.message;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(iss.input)}`;
    case 'too_small':
      if (!iss.message.startsWith('Too small')) return iss.message;
      return iss.origin === 'array' ? (Number(iss.minimum) === 1 ? 'must not be empty' : `must have at least ${iss.minimum} entries`) : `must be at least ${iss.minimum}, got ${describe(iss.input)}`;
    case 'too_big':
      if (!iss.message.startsWith('Too big')) return iss.message;
      return iss.origin === 'array' ? `must have at most ${iss.maximum} entries` : `must be at most ${iss.maximum}, got ${describe(iss.input)}`;
    default:
      return iss.message;
  }
}

/** Merges defaults, the file, the environment and flags (in rising precedence), then validates once. */
export function loadConfig(opts: LoadOptions): Config {
  const source = opts.file?.name ?? 'config';
  const raw = opts.file ? parseYaml(opts.file.name, opts.file.text) : {};
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError([`${source}: expected a mapping at the top level, got ${describe(raw)}`]);
  }
  const merged = structuredClone((raw ?? {}) as Record<string, unknown>);
  for (const [name, path] of Object.entries(ENV_PATHS)) {
    const value = opts.env?.[name];
    if (value !== undefined && value !== '') setPath(merged, path, value);
  }
  for (const [flag, path] of Object.entries(FLAG_PATHS)) {
    const value = opts.flags?.[flag as keyof Flags];
    if (value !== undefined) setPath(merged, path, BOOLEAN_FLAGS.has(flag) ? value === 'true' : value);
  }
  const result = buildConfigSchema(opts.probes).safeParse(merged, { reportInput: true });
  if (!result.success) {
    const flagFor = Object.fromEntries(Object.entries(FLAG_PATHS).map(([f, p]) => [p, f]));
    const envFor = Object.fromEntries(Object.entries(ENV_PATHS).map(([e, p]) => [p, e]));
    throw new ConfigError(
      result.error.issues.map((iss) => {
        const path = formatPath(iss.path);
        const from = opts.flags?.[flagFor[path] as keyof Flags] !== undefined ? ` (from --${flagFor[path]})` : envFor[path] && opts.env?.[envFor[path]] ? ` (from $${envFor[path]})` : '';
        return `${source}: ${path === '' ? '' : `${path}${from}: `}${issueMessage(iss)}`;
      }),
    );
  }
  return result.data as Config;
}
