import type { Probe, ProbeResult } from '../verdict.ts';
import type { PeerMesh } from './mesh.ts';

export const PEER_MESH_PROBE = 'peer-mesh';

/**
 * The peer mesh as a probe: each run is one round of pings, scheduled, bounded and recorded by the
 * runner like any other probe. Its schedule comes from the `peers` section (interval, timeout), not
 * from `probes`, and it runs whenever peer discovery is configured.
 *
 * A peer that does not answer is the peer's failure or the network's, not this node's: the round
 * stays ok and names it, and the cluster status and the alerts (from vigil_peer_up, across every
 * observer) say which it is. Only a round that cannot finish in time fails, as a timeout.
 */
export function peerMeshProbe(mesh: PeerMesh): Probe {
  return {
    name: PEER_MESH_PROBE,
    async run(signal): Promise<ProbeResult> {
      const r = await mesh.round(signal);
      if (signal.aborted) throw signal.reason as Error;
      if (r.targets === 0) return { verdict: 'ok', skipped: true, message: 'no peer known yet: nothing to ping' };
      const down = r.down.map((d) => `${d.peer} (${d.network}${d.failure ? `: ${d.failure}` : ''})`);
      const downPeers = new Set(r.down.map((d) => d.peer)).size;
      return {
        verdict: 'ok',
        message: `pinged ${r.targets} peer(s)${down.length > 0 ? `; not answering: ${down.slice(0, 10).join(', ')}${down.length > 10 ? ` and ${down.length - 10} more` : ''}` : ', all answered'}`,
        observations: { 'peers pinged': r.targets, 'peers not answering': downPeers },
      };
    },
  };
}
