import { readFileSync } from 'node:fs';
import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { fileSignature } from '../files.ts';
import { httpTransport, type PeerTransport } from './client.ts';

export interface PeerTlsFiles {
  /** Peers' certificates are verified against this CA; absent: the system's CAs. */
  caFile?: string;
  /** A client certificate, for peers whose web config asks for one. */
  certFile?: string;
  keyFile?: string;
  /** The name peers' certificates carry (one certificate shared by every agent); absent: the peer's IP. */
  serverName?: string;
}

/**
 * Reaches peers over TLS at the addresses discovery gives. The CA and client certificate are
 * re-read when their files change, so a rotated certificate is used from the next connection on.
 */
export function httpsTransport(opts: PeerTlsFiles & { now?: () => number }): PeerTransport {
  const now = opts.now ?? Date.now;
  const files = [opts.caFile, opts.certFile, opts.keyFile].filter((f): f is string => f !== undefined);
  const { serverName } = opts;
  const build = () =>
    new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      maxFreeSockets: 2,
      timeout: 30_000,
      ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
      cert: opts.certFile ? readFileSync(opts.certFile) : undefined,
      key: opts.keyFile ? readFileSync(opts.keyFile) : undefined,
      // Peers are dialled by IP; a shared certificate names the service instead.
      ...(serverName ? { servername: serverName, checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(serverName, cert) } : {}),
    });
  let agent = build();
  let signature = fileSignature(files);
  let checkedAt = now();
  const current = () => {
    if (now() - checkedAt < 1000) return agent;
    checkedAt = now();
    const sig = fileSignature(files);
    if (sig === signature) return agent;
    try {
      const next = build();
      agent.destroy();
      agent = next;
      signature = sig;
    } catch {
      // A half-written file: keep the agent in use; the next check tries again.
    }
    return agent;
  };
  return httpTransport({ agent: current, tls: true });
}
