// `npm run demo`: the whole product on this machine — a real 3-member etcd, the Kubernetes API
// simulator, three agents on loopback with static peers, real Prometheus scraping them as a
// ServiceMonitor would, loaded with the bundled rules, and real Alertmanager running the example
// configuration (alerts/alertmanager.yml; no receivers reachable here, see its UI). Prints where to look; Ctrl-C ends every process it started and removes its
// temporary directory.
import { PEER_TOKEN, startStack } from '../test/support/stack.ts';

const started = Date.now();
const say = (line: string) => process.stdout.write(`${line}\n`);

let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\n${signal}: stopping everything`);
  void (stack?.stop() ?? Promise.resolve()).then(
    () => {
      say('stopped; nothing left running');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`demo: stopping failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

try {
  stack = await startStack({ onProgress: (line) => say(`… ${line}`) });
} catch (err) {
  process.stderr.write(`demo: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}
if (stopping) await new Promise(() => {}); // a signal arrived while starting; shutdown() exits

const s = stack;
// A follower: slowing the leader would slow every member's writes, not just the one named.
const leaderIndex = await leaderOf(s);
const slow = s.etcd.members.find((_, i) => i !== leaderIndex) ?? s.etcd.members[0]!;
const etcdPid = slow.pid;
say(`
vigil demo is up (${((Date.now() - started) / 1000).toFixed(1)} s)

  Prometheus     ${s.prometheus.url}/classic/alerts   (targets: ${s.prometheus.url}/classic/targets)
  Alertmanager   ${s.alertmanager.url}
  agents         ${s.agents.map((a) => `${a.name} ${a.url}/`).join('\n                 ')}
  cluster status curl -H 'Authorization: Bearer ${PEER_TOKEN}' ${s.agents[0]!.url}/api/v1/status
                 (any agent answers for the whole cluster)
  etcd           ${s.etcd.members.map((m) => `${m.name} ${m.endpoint}`).join(', ')}
  API simulator  ${s.apisim.url}   (faults: POST ${s.apisim.url}/_sim/...)

Try a failure (the alerts fire within about 3 minutes; see them in Alertmanager):
  kill -9 ${s.agents.at(-1)!.proc.pid}                 # ${s.agents.at(-1)!.name}'s agent dies: VigilAgentDown (its host is up: not VigilNodeUnreachable)
  strace -f -qq -o /dev/null -p ${etcdPid} -e trace=fdatasync,fsync -e inject=fdatasync,fsync:delay_exit=300000
                                 # ${slow.name}'s disk slows: VigilEtcdWriteLatency, critical, member ${slow.name} (Ctrl-C the strace to heal)
  kill -9 ${etcdPid}             # ${slow.name} dies: VigilEtcdMemberDown, member ${slow.name}

processes: ${[...s.etcd.members.map((m) => `etcd-${m.name} ${m.pid}`), `apisim ${s.apisim.proc.pid}`, ...s.agents.map((a) => `${a.name} ${a.proc.pid}`), `prometheus ${s.prometheus.proc.pid}`, `alertmanager ${s.alertmanager.proc.pid}`].join(', ')}
state: ${s.dir}
Press Ctrl-C to stop.`);

/** Index of the etcd member that leads, as the agents report it to Prometheus; -1 if not known yet. */
async function leaderOf(st: NonNullable<typeof stack>): Promise<number> {
  for (let i = 0; i < 30; i++) {
    try {
      const res = await fetch(`${st.prometheus.url}/api/v1/query?query=${encodeURIComponent('max by (member) (vigil_etcd_endpoint_is_leader) == 1')}`);
      const r = ((await res.json()) as { data: { result: { metric: { member: string } }[] } }).data.result;
      if (r.length === 1) return st.etcd.members.findIndex((m) => m.name === r[0]!.metric.member);
    } catch {
      // Prometheus not answering yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return -1;
}
