import { existsSync } from 'node:fs';
import { errorText } from '../errors.ts';
import { DEFAULT_TOKEN_FILE, readToken } from '../peers/auth.ts';
import type { ClusterStatus, LocalStatusWithPeers } from '../status/cluster-types.ts';
import { clusterExitCode, formatCluster, formatLocal, localExitCode } from './status-format.ts';

export interface StatusCommandOptions {
  url: string;
  json?: boolean;
  local?: boolean;
  tokenFile?: string;
  timeoutMs?: number;
}

/** `vigil status`: asks one agent for the cluster (or its own) status; exit 0 healthy, 1 degraded, 2 undetermined. */
export async function statusCommand(opts: StatusCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let token: string | undefined;
  try {
    // In the agent's container (`kubectl exec ds/vigil -- vigil status`) the mounted Secret is used.
    const tokenFile = opts.tokenFile ?? (existsSync(DEFAULT_TOKEN_FILE) ? DEFAULT_TOKEN_FILE : undefined);
    token = tokenFile ? readToken(tokenFile) : undefined;
  } catch (e) {
    err.write(`vigil status: ${errorText(e)}\n`);
    return 2;
  }
  const base = opts.url.replace(/\/+$/, '');
  const url = `${base}${opts.local ? '/api/v1/status/local' : '/api/v1/status'}`;
  let body: unknown;
  try {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
    if (res.status === 401) throw new Error('the agent wants the peer token (--token-file)');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (e) {
    const cause = (e as Error & { cause?: { code?: string } }).cause?.code;
    err.write(`vigil status: cannot get ${url}: ${cause ?? errorText(e)}; cluster state undetermined\n`);
    return 2;
  }
  const b = body as Partial<ClusterStatus & LocalStatusWithPeers>;
  if (typeof b !== 'object' || b === null || typeof b.verdict !== 'string' || (opts.local ? !Array.isArray(b.probes) : !Array.isArray(b.nodes))) {
    err.write(`vigil status: ${url} did not answer with a ${opts.local ? 'local' : 'cluster'} status\n`);
    return 2;
  }
  if (opts.local) {
    const s = { peers: [], ...b } as LocalStatusWithPeers;
    out.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatLocal(s));
    return localExitCode(s);
  }
  const s = b as ClusterStatus;
  out.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatCluster(s));
  return clusterExitCode(s);
}
