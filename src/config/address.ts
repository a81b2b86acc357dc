import { isIP } from 'node:net';

/**
 * An address as the config writes it: "host:port", "[v6]:port", ":port", "host", or a bare IPv6
 * address (which then has no port). The one parser behind every address field; each field says
 * which parts it requires.
 */
export interface Address {
  /** Empty for ":port". IPv6 addresses come without their brackets. */
  host: string;
  port: number | undefined;
}

export function parseAddress(s: string): Address | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    if (isIP(host) !== 6) return undefined;
    portText = bracketed[2];
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const m = /^([^:[\]\s]*)(?::(\d{1,5}))?$/.exec(s);
    if (!m) return undefined;
    host = m[1]!;
    portText = m[2];
  }
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && port > 65535) return undefined;
  return { host, port };
}

/** host:port, [v6]:port or :port, with a port in 0–65535 (0: pick a free port); host undefined for all addresses. */
export function parseListenAddress(s: string): { host: string | undefined; port: number } | undefined {
  const a = parseAddress(s);
  if (a?.port === undefined) return undefined;
  return { host: a.host === '' ? undefined : a.host, port: a.port };
}

/** An IP address with an optional port from 1 to 65535: "10.0.0.1", "10.0.0.1:53", "[fd00::1]:53", "fd00::1". */
export function parseIpAddress(s: string): { ip: string; port: number | undefined } | undefined {
  const a = parseAddress(s);
  if (!a || isIP(a.host) === 0 || a.port === 0) return undefined;
  return { ip: a.host, port: a.port };
}

/** A host name or IP address with a port from 1 to 65535: "etcd-0.example:2379", "[fd00::2]:2379". */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const a = parseAddress(s);
  if (!a?.port || !(isIP(a.host) !== 0 || /^[A-Za-z0-9.-]+$/.test(a.host))) return undefined;
  return { host: a.host, port: a.port };
}
