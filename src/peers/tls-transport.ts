import { readFileSync } from 'node:fs';
import https from 'node:https';
import { checkServerIdentity, createSecureContext, type PeerCertificate } from 'node:tls';
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
 * re-read when their files change, so a rotated certificate is used from the next connection on;
 * onReload hears of each reload, with the error when the files could not be used.
 */
export function httpsTransport(opts: PeerTlsFiles & { now?: () => number; onReload?: (err: unknown) => void }): PeerTransport {
  const now = opts.now ?? Date.now;
  const files = [opts.caFile, opts.certFile, opts.keyFile].filter((f): f is string => f !== undefined);
  const { serverName } = opts;
  const build = () => {
    const ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
    const cert = opts.certFile ? readFileSync(opts.certFile) : undefined;
    const key = opts.keyFile ? readFileSync(opts.keyFile) : undefined;
    // Throws on a file that is not PEM or a key that does not match its certificate, before the
    // files are used: the agent has no other moment to find out than a connection failing.
    createSecureContext({ ca, cert, key });
    return new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      maxFreeSockets: 2,
      timeout: 30_000,
      ca,
      cert,
      key,
      // Peers are dialled by IP; a shared certificate names the service instead.
      ...(serverName ? { servername: serverName, checkServerIdentity: (_host: string, c: PeerCertificate) => checkServerIdentity(serverName, c) } : {}),
    });
  };
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
      opts.onReload?.(undefined);
    } catch (err) {
      // A half-written or wrong file: keep the agent in use. The files are read again when they
      // change again (the rest of a write, a fixed file), not every second while they stay bad.
      opts.onReload?.(err);
    }
    signature = sig;
    return agent;
  };
  return httpTransport({ agent: current, tls: true });
}
