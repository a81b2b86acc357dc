import { ConfigError, loadConfig, readConfigFile } from '../config/load.ts';
import { readToken } from '../peers/auth.ts';
import { builtinProbes } from '../probes/index.ts';
import { loadWebConfig } from '../server/web-config.ts';

export function checkConfigCommand(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadConfig({ probes: builtinProbes, file: readConfigFile(file) });
    if (config.web.configFile) loadWebConfig(config.web.configFile);
    // The agent reads the token at start and refuses a missing, short or placeholder one: so does this.
    if (config.peers.tokenFile) {
      try {
        readToken(config.peers.tokenFile);
      } catch (tokenError) {
        throw new ConfigError([`${file}: peers.tokenFile: ${(tokenError as Error).message}`]);
      }
    }
    const enabled = Object.entries(config.probes)
      .filter(([, p]) => p.enabled)
      .map(([n]) => n);
    out.write(`${file}: valid; probes enabled: ${enabled.join(', ') || 'none'}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) err.write(`${p}\n`);
    return 2;
  }
}
