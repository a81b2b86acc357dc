import type { TLSSocket, TlsOptions } from 'node:tls';
import { TLS_VERSIONS } from './tls-names.ts';
import type { ClientAuthType, WebConfig } from './web-config.ts';

type TlsSettings = NonNullable<WebConfig['tls']>;

/** Node TLS server options for a web config's tls_server_config. */
export function tlsOptions(t: TlsSettings): TlsOptions {
  const requestCert = t.clientAuth !== 'NoClientCert';
  return {
    cert: t.material.cert,
    key: t.material.key,
    ca: t.material.ca,
    minVersion: TLS_VERSIONS[t.minVersion].node,
    maxVersion: TLS_VERSIONS[t.maxVersion].node,
    ciphers: t.cipherSuites && t.cipherSuites.length > 0 ? t.cipherSuites.join(':') : undefined,
    honorCipherOrder: t.preferServerCipherSuites,
    ecdhCurve: t.curves?.join(':'),
    requestCert,
    // OpenSSL refuses the handshake itself only for the strictest policy; the others are
    // decided per connection by clientCertAccepted.
    rejectUnauthorized: t.clientAuth === 'RequireAndVerifyClientCert',
  };
}

/** Whether a connection meets the client certificate policy (the handshake has completed). */
export function clientCertAccepted(policy: ClientAuthType, peer: { presented: boolean; verified: boolean }): boolean {
  switch (policy) {
    case 'NoClientCert':
    case 'RequestClientCert':
      return true;
    case 'RequireAnyClientCert':
      return peer.presented;
    case 'VerifyClientCertIfGiven':
      return !peer.presented || peer.verified;
    case 'RequireAndVerifyClientCert':
      return peer.presented && peer.verified;
  }
}

export function peerCertificateState(socket: TLSSocket): { presented: boolean; verified: boolean } {
  const cert = socket.getPeerCertificate();
  return { presented: cert !== null && Object.keys(cert).length > 0, verified: socket.authorized };
}
