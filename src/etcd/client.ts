import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { EtcdSettings } from './settings.ts';

export const hostUrl = (endpoint: string, tls: boolean) => `${tls ? 'https' : 'http'}://${endpoint}`;

/**
 * A client bound to one member, without retries or circuit breakers: every request goes to that
 * member and its failure is reported as it happened, so a dead or slow member is the one named.
 */
export function memberClient(endpoint: string, settings: EtcdSettings): Etcd3 {
  return new Etcd3({ ...settings, hosts: [hostUrl(endpoint, settings.credentials !== undefined)], faultHandling: { host: () => noop, global: noop } });
}

/** A client over every member, for the lease: its keep-alives move to another member when one dies. */
export function clusterClient(endpoints: readonly string[], settings: EtcdSettings): Etcd3 {
  return new Etcd3({ ...settings, hosts: endpoints.map((e) => hostUrl(e, settings.credentials !== undefined)) });
}
