import { EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnauthenticatedError, GRPCUnavailableError, type Etcd3 } from 'etcd3';
import type { MemberObservation, RequestFailure } from './verdict.ts';

/** Turns what the client threw into the probe's vocabulary, with a message a person can act on. */
export function classifyFailure(err: unknown, timeoutMs: number): RequestFailure {
  const message = err instanceof Error ? err.message : String(err);
  // grpc-js reports TLS trouble as UNAVAILABLE; only the text tells it apart from a refused connection.
  const tls = /certificate|handshake|SSL|TLS|wrong version number|CERT_|self[- ]signed/i.exec(message);
  if (tls) return { kind: 'tls', text: `TLS handshake failed: ${tlsHint(tidy(message))}` };
  if (err instanceof EtcdAuthenticationFailedError || err instanceof EtcdPermissionDeniedError || err instanceof EtcdInvalidAuthTokenError || err instanceof GRPCUnauthenticatedError) {
    return { kind: 'auth', text: `authentication failed: ${tidy(message)}` };
  }
  if (err instanceof GRPCDeadlineExceededError) return { kind: 'timeout', text: `no answer within ${timeoutMs} ms` };
  if (err instanceof GRPCUnavailableError || /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|No connection established/i.test(message)) {
    return { kind: 'unreachable', text: /ECONNREFUSED/.test(message) ? 'connection refused' : tidy(message) };
  }
  return { kind: 'error', text: tidy(message) };
}

/** Says which side refused, since OpenSSL's words do not. */
function tlsHint(text: string): string {
  if (/alert (bad certificate|certificate required|unknown ca)|alert number (42|48|116)/i.test(text)) return `etcd rejected the client certificate (${text})`;
  if (/unable to verify|self[- ]signed|unable to get (local )?issuer/i.test(text)) return `the server certificate is not signed by the configured CA (${text})`;
  return text;
}

/** grpc-js messages repeat the status code and the whole cause chain; keep the part a person needs. */
function tidy(message: string): string {
  const last = /Last error: (.*)$/s.exec(message)?.[1] ?? message;
  const openssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/.exec(last)?.[1];
  return (openssl ?? last)
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/^Error: /, '')
    .replace(/\.? Resolution note:.*$/s, '')
    .split('\n')[0]!
    .slice(0, 200);
}

export interface ObserveOptions {
  endpoint: string;
  client: Etcd3;
  /** The key this member's put writes, inside the probe's prefix. */
  key: string;
  /** The lease the key is attached to; a rejection is reported as the put's failure. */
  lease: Promise<string>;
  /** The member's KV channel served the previous run's get: the put need not wait for a get to open it. */
  kvReady: boolean;
  /** Milliseconds each request may take. */
  timeoutMs: number;
  /** A monotonic clock in milliseconds, for latencies. */
  now: () => number;
  /** The wall time, for gRPC deadlines. */
  wallNow: () => number;
}

const ALARM = /memberID:(\d+) alarm:([A-Z]+)/;

/**
 * One member's status, a put and a linearizable get. The status request goes first so the
 * connection is up before anything is timed. Until the KV channel has served a request the get
 * goes before the put, to open it, so the put's latency is the request alone; after that the put
 * goes first, so it does not follow a read that waited for the member to apply what was pending.
 */
export async function observeMember(o: ObserveOptions): Promise<MemberObservation> {
  const deadline = () => ({ deadline: new Date(o.wallNow() + o.timeoutMs) });
  const obs: MemberObservation = { endpoint: o.endpoint };
  try {
    const s = await o.client.maintenance.status(deadline());
    obs.memberId = s.header.member_id;
    obs.leader = s.leader;
    obs.raftTerm = s.raftTerm;
    obs.raftIndex = s.raftIndex;
    obs.dbSizeBytes = Number(s.dbSize);
    obs.alarms = s.errors.flatMap((e) => {
      const m = ALARM.exec(e);
      return m ? [{ memberId: m[1]!, alarm: m[2]! }] : [];
    });
  } catch (err) {
    obs.down = classifyFailure(err, o.timeoutMs);
    return obs;
  }
  // A member that knows no leader can neither take a write nor serve a linearizable read; asking
  // would only wait out two deadlines and push the run past its timeout.
  if (obs.leader === '0') return obs;

  const get = async () => {
    const start = o.now();
    try {
      await o.client.get(o.key).options(deadline()).exec();
      obs.getMs = o.now() - start;
    } catch (err) {
      obs.getFailure = { ...classifyFailure(err, o.timeoutMs), waitedMs: o.now() - start };
    }
  };
  const put = async () => {
    let lease: string;
    try {
      lease = await o.lease;
    } catch (err) {
      const f = classifyFailure(err, o.timeoutMs);
      obs.putFailure = { kind: f.kind, text: `no lease to attach the key to: ${f.text}` };
      return;
    }
    const options = deadline();
    const start = o.now();
    try {
      await o.client.put(o.key).value(String(o.wallNow())).lease(lease).options(options).exec();
      obs.putMs = o.now() - start;
    } catch (err) {
      obs.putFailure = { ...classifyFailure(err, o.timeoutMs), waitedMs: o.now() - start };
    }
  };
  if (o.kvReady) {
    await put();
    await get();
  } else {
    await get();
    await put();
  }
  return obs;
}
