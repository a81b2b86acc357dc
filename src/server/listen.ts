import http, { STATUS_CODES, type RequestListener, type Server } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/fields.ts';
import type { Logger } from '../log.ts';
import { errorText } from '../errors.ts';
import type { ServerLimits } from '../config/limits.ts';
import type { RejectReason } from './limits.ts';
import { clientCertAccepted, peerCertificateState, tlsOptions } from './tls.ts';
import type { WebConfigSource } from './web-config-source.ts';

export interface ServeOptions {
  app: RequestListener;
  listenAddress: ListenAddress;
  limits: ServerLimits;
  /** Absent: plain HTTP without authentication. */
  webConfig?: WebConfigSource;
  logger: Logger;
  onRejected?: (reason: RejectReason) => void;
}

/** Answers protocol errors (garbage, oversized headers, timeouts) with a JSON error instead of a bare status line. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex, onRejected?: (reason: RejectReason) => void): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  onRejected?.('malformed');
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const what = status === 431 ? 'request headers too large' : status === 408 ? 'request not received in time' : 'malformed HTTP request';
  // An answer to HEAD carries no body; a client would read one as the start of the next response.
  const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  const body = head ? '' : JSON.stringify({ error: what });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function createServer(opts: ServeOptions): Server {
  const { limits } = opts;
  const common = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headerTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.idleTimeout,
    // Node checks the two timeouts above only this often (30 s by default), which lets a slow client hold a socket that much longer.
    connectionsCheckingInterval: Math.min(1000, limits.headerTimeout),
  };
  const source = opts.webConfig;
  const initial = source?.current().tls;
  if (!source || !initial) return http.createServer(common, opts.app);

  const server = https.createServer({ ...common, ...tlsOptions(initial), handshakeTimeout: limits.headerTimeout }, opts.app);
  let applied = source.generation;
  // Before the TLS server's own listener, so a rotated certificate serves this very connection.
  server.prependListener('connection', () => {
    const tls = source.current().tls;
    if (source.generation === applied || !tls) return;
    applied = source.generation;
    const options = tlsOptions(tls);
    server.setSecureContext(options);
    // Read by the TLS server for each new connection; setSecureContext leaves them alone.
    Object.assign(server, { requestCert: options.requestCert, rejectUnauthorized: options.rejectUnauthorized });
  });
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const policy = source.current().tls?.clientAuth ?? 'NoClientCert';
    if (!clientCertAccepted(policy, peerCertificateState(socket))) {
      opts.onRejected?.('client-certificate');
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    opts.logger.debug({ err }, 'TLS handshake failed');
  });
  return server;
}

/** Creates the HTTP(S) server with its limits and starts listening. */
export async function serve(opts: ServeOptions): Promise<Server> {
  const server = createServer(opts);
  server.maxConnections = opts.limits.maxConnections;
  server.maxHeadersCount = 100;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket, opts.onRejected));
  const listen = opts.listenAddress;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${listen.text}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : errorText(err)}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(listen.port, listen.host ?? '::', () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
  return server;
}
