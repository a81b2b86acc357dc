import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HistoryStore } from '../src/history/store.ts';
import { silentLogger } from '../src/log.ts';
import { httpTransport, PeerClient } from '../src/peers/client.ts';
import { PeerDirectory } from '../src/peers/directory.ts';
import { DnsDiscovery } from '../src/peers/dns.ts';
import { FakeClock } from './support/fake-clock.ts';
import { TestDnsServer } from './support/dns-server.ts';
import { waitFor } from './support/peer-agents.ts';
import { startResponders } from './support/responders.ts';

void describe('DNS peer discovery', () => {
  const NAME = 'vigil-peers.vigil.svc.cluster.local';
  let sim: Awaited<ReturnType<typeof startResponders>>;
  let dnsServer: TestDnsServer;
  const store = new HistoryStore(':memory:');
  before(async () => {
    // one simulated agent on 127.0.0.1; the Service's A records are loopback addresses
    sim = await startResponders(['d1']);
    dnsServer = await TestDnsServer.start();
  });
  after(async () => {
    await sim.close();
    await dnsServer.stop();
    store.close();
  });

  void it('learns node names by pinging the addresses, keeps them through a failed lookup', async () => {
    const clock = new FakeClock();
    const directory = new PeerDirectory({ self: 'me', store, now: () => clock.now(), logger: silentLogger(), sources: ['dns'] });
    // the lookup runs on real sockets after the fake clock fires the refresh; it is over once the next one is scheduled
    const refreshed = () => waitFor('the DNS refresh', () => Promise.resolve(clock.pending === 1 ? true : undefined));
    dnsServer.answers.set(NAME, { a: ['127.0.0.1', '127.0.0.2'] });
    const dns = new DnsDiscovery({
      name: NAME,
      refresh: 30_000,
      servers: [dnsServer.address],
      podPort: () => sim.responders.get('d1')!.port,
      timeout: 500,
      client: new PeerClient({ transport: httpTransport(), maxBytes: 65536 }),
      directory,
      clock,
      logger: silentLogger(),
    });
    await dns.refresh();
    // 127.0.0.2 has no agent on that port: it stays unnamed and is not a peer yet
    assert.deepEqual(directory.list(), [{ node: 'd1', podIP: '127.0.0.1' }]);
    assert.deepEqual(sim.responders.get('d1')!.hits, ['/api/v1/ping']);
    dnsServer.answers.delete(NAME); // NXDOMAIN: the lookup fails, the list stays
    await clock.advance(30_000);
    await refreshed();
    assert.deepEqual(directory.list(), [{ node: 'd1', podIP: '127.0.0.1' }]);
    dnsServer.answers.set(NAME, { a: ['127.0.0.1'] });
    await clock.advance(30_000);
    await refreshed();
    assert.deepEqual(sim.responders.get('d1')!.hits, ['/api/v1/ping'], 'a known address is not pinged again to learn its name');
    dnsServer.answers.set(NAME, { a: ['127.0.0.3'] });
    await clock.advance(30_000);
    await refreshed();
    assert.deepEqual(directory.list(), []);
    assert.equal(dnsServer.queries, 4, 'one A query per refresh');
    dns.stop();
  });
});
