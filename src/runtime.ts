// The runtime vigil needs, checked once at start: an older Node says so in one line instead of
// failing later on a module it lacks.

/** The oldest Node.js release vigil runs on (package.json's `engines` says the same). */
export const MIN_NODE = '24.11.0';

const parts = (v: string) =>
  v
    .replace(/^v/, '')
    .split('.')
    .map((x) => Number.parseInt(x, 10) || 0);

/** Why this Node cannot run vigil, or undefined when it can. */
export function runtimeProblem(version: string, execPath: string): string | undefined {
  const have = parts(version);
  const need = parts(MIN_NODE);
  for (let i = 0; i < 3; i++) {
    if (have[i]! > need[i]!) return undefined;
    if (have[i]! < need[i]!) return `vigil needs Node.js ${MIN_NODE} or newer; ${execPath} is ${version}`;
  }
  return undefined;
}

/** What `builtin` can load: the built-ins newer than some runtimes vigil may be started on. */
interface LateBuiltins {
  'node:sqlite': typeof import('node:sqlite');
}

/**
 * A built-in module loaded when first needed (not at import): on a runtime without it, the error
 * names the module and the runtime rather than failing before anything runs.
 */
export function builtin<ID extends keyof LateBuiltins>(id: ID): LateBuiltins[ID] {
  const mod = process.getBuiltinModule(id) as LateBuiltins[ID] | undefined;
  if (!mod) throw new Error(`${id} is missing from Node.js ${process.version}: ${runtimeProblem(process.version, process.execPath) ?? 'this build leaves it out'}`);
  return mod;
}
