import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HistoryStore } from '../src/history/store.ts';
import { silentLogger } from '../src/log.ts';
import { httpTransport, PeerClient } from '../src/peers/client.ts';
import { PeerDirectory } from '../src/peers/directory.ts';
import { DnsDiscovery } from '../src/peers/dns.ts';
import { FakeClock } from './support/fake-clock.ts';
import { startResponders } from './support/responders.ts';

void describe('DNS peer discovery', () => {
  let sim: Awaited<ReturnType<typeof startResponders>>;
  const store = new HistoryStore(':memory:');
  before(async () => {
    // every simulated agent answers on its own port; the "A records" are loopback addresses
    sim = await startResponders(['d1']);
  });
  after(async () => {
    await sim.close();
    store.close();
  });

  void it('learns node names by pinging the addresses, keeps them through a failed lookup', async () => {
    const clock = new FakeClock();
    const directory = new PeerDirectory({ self: 'me', store, now: () => clock.now(), logger: silentLogger(), sources: ['dns'] });
    let records: string[] | Error = ['127.0.0.1', '127.0.0.2'];
    const lookups: string[] = [];
    const dns = new DnsDiscovery({
      name: 'vigil-peers.vigil.svc',
      refresh: 30_000,
      podPort: () => sim.responders.get('d1')!.port,
      timeout: 500,
      client: new PeerClient({ transport: httpTransport(), maxBytes: 65536 }),
      directory,
      clock,
      logger: silentLogger(),
      resolve: (name) => {
        lookups.push(name);
        return records instanceof Error ? Promise.reject(records) : Promise.resolve(records);
      },
    });
    await dns.refresh();
    // 127.0.0.2 has no agent on that port: it stays unnamed and is not a peer yet
    assert.deepEqual(directory.list(), [{ node: 'd1', podIP: '127.0.0.1' }]);
    records = new Error('queryA ETIMEOUT vigil-peers.vigil.svc');
    await clock.advance(30_000);
    assert.deepEqual(lookups, ['vigil-peers.vigil.svc', 'vigil-peers.vigil.svc']);
    assert.deepEqual(directory.list(), [{ node: 'd1', podIP: '127.0.0.1' }]);
    records = [];
    await clock.advance(30_000);
    assert.deepEqual(directory.list(), []);
    dns.stop();
  });
});
