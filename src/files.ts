import { statSync } from 'node:fs';
import { errorText } from './errors.ts';

/** Why a file could not be read, in a few words. */
export function fileErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  // The code alone otherwise: the message repeats the path, which the caller names already.
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? errorText(err));
}

/**
 * What identifies the content of some files cheaply: a rewrite, or a rename over one of them (a
 * Secret's mounted files are swapped that way), changes it; so does a file appearing or going.
 */
export function fileSignature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
