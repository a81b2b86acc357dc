import type { Registry } from 'prom-client';
import { ConfigError } from '../config/load.ts';
import { errorText } from '../errors.ts';
import { fileSignature } from '../files.ts';
import type { Logger } from '../log.ts';
import { webConfigMetrics, type WebConfigMetrics } from '../metrics/metrics.ts';
import { loadWebConfig, type WebConfig } from './web-config.ts';

export interface WebConfigSourceOptions {
  file: string;
  logger: Logger;
  now: () => number;
  /** At most one look at the files' modification times per this many milliseconds. */
  checkEvery?: number;
  /** Called after every reload attempt (not the first load), with whether it took effect. */
  onReload?: (ok: boolean, config: WebConfig) => void;
}

/**
 * The web config in force. The file and the certificates it names are re-read when any of them
 * changes, so rotated certificates and changed users take effect without a restart. A change
 * that does not validate is logged and the previous configuration stays in force; turning TLS
 * on or off needs a restart (the listener is either TLS or not).
 */
export class WebConfigSource {
  readonly #opts: WebConfigSourceOptions;
  #config: WebConfig;
  #signature: string;
  #checkedAt: number;
  #generation = 0;

  /** Loads the file once; throws ConfigError when it is invalid. */
  constructor(opts: WebConfigSourceOptions) {
    this.#opts = opts;
    this.#config = loadWebConfig(opts.file);
    this.#signature = fileSignature(this.#config.files);
    this.#checkedAt = opts.now();
  }

  /** Bumped on every change that took effect; lets users of the config rebuild what they derived from it. */
  get generation(): number {
    return this.#generation;
  }

  /** The config in effect, without looking for changes to the files. */
  get inEffect(): WebConfig {
    return this.#config;
  }

  current(): WebConfig {
    const now = this.#opts.now();
    if (now - this.#checkedAt >= (this.#opts.checkEvery ?? 1000)) {
      this.#checkedAt = now;
      const sig = fileSignature(this.#config.files);
      if (sig !== this.#signature) this.#reload(sig);
    }
    return this.#config;
  }

  #reload(sig: string): void {
    const { logger, file } = this.#opts;
    try {
      const next = loadWebConfig(file);
      if (Boolean(next.tls) !== Boolean(this.#config.tls)) {
        throw new ConfigError([`${file}: tls_server_config: turning TLS ${next.tls ? 'on' : 'off'} needs a restart; keeping the running configuration`]);
      }
      this.#config = next;
      this.#signature = fileSignature(next.files);
      this.#generation++;
      logger.info({ file, users: next.users.size, tls: Boolean(next.tls) }, 'web config reloaded');
      this.#opts.onReload?.(true, next);
    } catch (err) {
      // Remember the broken state so it is reported once, not on every request.
      this.#signature = sig;
      const problems = err instanceof ConfigError ? err.problems : [errorText(err)];
      logger.error({ file, problems }, `web config not reloaded: ${problems.join('; ')}`);
      this.#opts.onReload?.(false, this.#config);
    }
  }
}

/** The agent's web config source, if one is configured, with its reload and expiry metrics kept up to date. */
export function openWebConfig(file: string | undefined, deps: { logger: Logger; registry: Registry; now: () => number }): WebConfigSource | undefined {
  if (file === undefined) return undefined;
  const expiry = (c: WebConfig) => {
    if (c.tls) metrics.webTlsCertificateExpiry?.set(c.tls.material.notAfter / 1000);
  };
  const source = new WebConfigSource({
    file,
    logger: deps.logger,
    now: deps.now,
    onReload: (ok, c) => {
      metrics.webConfigReloadSuccess.set(ok ? 1 : 0);
      expiry(c);
    },
  });
  // Made once the file has loaded (one that does not load stops the agent before it serves).
  const metrics: WebConfigMetrics = webConfigMetrics(deps.registry, { tls: Boolean(source.inEffect.tls) });
  metrics.webConfigReloadSuccess.set(1);
  expiry(source.inEffect);
  return source;
}
