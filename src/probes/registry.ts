import type { Config, ProbeCommon } from '../config/schema.ts';
import type { ProbeDefinition } from './probe.ts';

export interface EnabledProbe {
  definition: ProbeDefinition;
  common: ProbeCommon;
  /** The validated probe section, including its own options. */
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
