// `npm run demo`: the whole product on this machine — real etcd, the Kubernetes API simulator,
// three agents on loopback with static peers, real Prometheus loaded with the bundled rules, and
// real Alertmanager. Prints where to look; Ctrl-C ends every process it started and removes its
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
const etcdPid = s.etcd.members[0]!.pid;
say(`
vigil demo is up (${((Date.now() - started) / 1000).toFixed(1)} s)

  Prometheus     ${s.prometheus.url}/alerts   (targets: ${s.prometheus.url}/targets)
  Alertmanager   ${s.alertmanager.url}
  agents         ${s.agents.map((a) => `${a.name} ${a.url}/`).join('\n                 ')}
  cluster status curl -H 'Authorization: Bearer ${PEER_TOKEN}' ${s.agents[0]!.url}/api/v1/status
                 (any agent answers for the whole cluster)
  etcd           ${s.etcd.endpoints.join(', ')}
  API simulator  ${s.apisim.url}   (faults: POST ${s.apisim.url}/_sim/...)

Try a failure (the alerts fire after their \`for\`, a few minutes):
  kill -9 ${s.agents.at(-1)!.proc.pid}                 # ${s.agents.at(-1)!.name}'s agent dies: VigilNodeUnreachable, VigilAgentDown
  strace -f -qq -o /dev/null -p ${etcdPid} -e trace=fdatasync,fsync -e inject=fdatasync,fsync:delay_exit=400000
                                 # a slow etcd disk: VigilEtcdWriteLatencyCritical (Ctrl-C the strace to heal)

processes: ${[`etcd ${etcdPid}`, `apisim ${s.apisim.proc.pid}`, ...s.agents.map((a) => `${a.name} ${a.proc.pid}`), `prometheus ${s.prometheus.proc.pid}`, `alertmanager ${s.alertmanager.proc.pid}`].join(', ')}
state: ${s.dir}
Press Ctrl-C to stop.`);
