// The floors of src/, lowest first. A module imports from its own floor and the floors below it,
// never from a floor above: the leaves know nothing of the agent, the adapters nothing of probes,
// the probes nothing of how their results are gathered across nodes, and only src/agent.ts puts
// the parts together. Type-only imports count: a type from above is a dependency on above.
// Checked by `npm run lint` (depcruise src); tests are exempt (they may reach anywhere).
const FLOORS = [
  ['^src/(verdict|diagnosis|clock|abortable|backoff|log|errors|compare|version|runtime|http-get|files)\\.ts$', '^src/metrics/', '^src/config/duration\\.ts$'],
  ['^src/(config|k8s|etcd|history)/', '^src/runner/jitter\\.ts$'],
  ['^src/(probes|runner)/'],
  ['^src/status/'],
  ['^src/peers/'],
  ['^src/(conditions|server)/'],
  ['^src/agent\\.ts$'],
  ['^src/cli/'],
];
const NAMES = ['leaves', 'adapters', 'probes and runner', 'status', 'peers', 'features', 'composition root', 'command line'];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'a ring of imports is a ring of responsibilities', from: {}, to: { circular: true } },
    {
      name: 'on-a-floor',
      severity: 'error',
      comment: 'every module of src/ has a floor in .dependency-cruiser.cjs',
      from: { path: '^src/', pathNot: FLOORS.flat() },
      to: {},
    },
    ...FLOORS.slice(0, -1).map((paths, i) => ({
      name: `no-upward-from-${NAMES[i].replaceAll(' ', '-')}`,
      severity: 'error',
      comment: `the ${NAMES[i]} import nothing above them (${NAMES.slice(i + 1).join(', ')})`,
      from: { path: paths },
      to: { path: '^src/', pathNot: FLOORS.slice(0, i + 1).flat() },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.test\\.ts$', '\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
