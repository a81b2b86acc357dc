import type { Config, ProbeCommon } from '../config/schema.ts';
import type { Probe, ProbeClients, ProbeDefinition, ProbeDeps } from './probe.ts';

export interface EnabledProbe {
  definition: ProbeDefinition;
  common: ProbeCommon;
  /** The probe's own options, validated. */
  options: Record<string, unknown>;
}

/** The set of probes an agent can run; each probe file contributes one definition. */
export class ProbeRegistry {
  readonly #defs = new Map<string, ProbeDefinition>();

  constructor(definitions: readonly ProbeDefinition[]) {
    for (const def of definitions) {
      if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`probe name "${def.name}" must be lower-case words joined by dashes`);
      if (this.#defs.has(def.name)) throw new Error(`probe "${def.name}" is registered twice`);
      if (def.defaultTimeout >= def.defaultInterval) throw new Error(`probe "${def.name}": default timeout must be below its default interval`);
      this.#defs.set(def.name, def);
    }
  }

  enabled(config: Config): EnabledProbe[] {
    const out: EnabledProbe[] = [];
    for (const def of this.#defs.values()) {
      const section = config.probes[def.name];
      if (!section?.enabled) continue;
      const { enabled, interval, timeout, ...options } = section;
      out.push({ definition: def, common: { enabled, interval, timeout }, options });
    }
    return out;
  }
}

/** Builds an enabled probe with its own interval and timeout, and only the clients it declares. */
export function createProbe(e: EnabledProbe, deps: Omit<ProbeDeps, 'interval' | 'timeout'>, clients: Partial<ProbeClients>): Probe {
  const given: Partial<ProbeClients> = {};
  for (const name of e.definition.clients ?? []) {
    const client = clients[name];
    if (!client) throw new Error(`probe "${e.definition.name}" needs the ${name} client, which this agent does not provide`);
    given[name] = client;
  }
  const probe = e.definition.create({ ...deps, ...(given as ProbeClients), interval: e.common.interval, timeout: e.common.timeout }, e.options);
  // the definition's name, the one every metric, status and cause carries
  return { name: e.definition.name, run: (signal) => probe.run(signal), ...(probe.close ? { close: () => probe.close!() } : {}) };
}
