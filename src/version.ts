import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };

export const version: string = pkg.version;

/** The source revision: set at image build time, else asked of git when run from a checkout. */
export function revision(env: Record<string, string | undefined> = process.env): string {
  if (env.VIGIL_REVISION) return env.VIGIL_REVISION;
  try {
    const root = fileURLToPath(new URL('..', import.meta.url));
    return (
      execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || 'unknown'
    );
  } catch {
    return 'unknown';
  }
}
