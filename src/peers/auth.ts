import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import { fileErrorText } from '../files.ts';

/** Reads the shared token; a clear error when the file is missing or empty. */
export function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the peer token file ${file}: ${fileErrorText(err)}`, { cause: err });
  }
  const token = text.trim();
  if (token.length < 16) throw new Error(`the peer token in ${file} is ${token.length === 0 ? 'empty' : 'shorter than 16 characters'}; put a random one in the Secret (openssl rand -hex 32)`);
  if (PLACEHOLDER.test(token)) throw new Error(`the peer token in ${file} is the placeholder "${token}"; put a random one in the Secret (openssl rand -hex 32)`);
  return token;
}

/** Where the DaemonSet mounts the peer token Secret; `vigil status` reads it from there by default. */
export const DEFAULT_TOKEN_FILE = '/var/run/secrets/vigil/token';

/** The committed Secret's value and the like: a token everyone can read in the repository is no secret. */
const PLACEHOLDER = /^(replace|change)[-_]?me|placeholder/i;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether the header carries the token; compares digests in constant time, whatever the lengths. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}

/** Refuses requests without the shared token with 401; mounted on the peer endpoints only. */
export function requireToken(token: string): RequestHandler {
  return (req, res, next) => {
    if (tokenMatches(req.headers.authorization, token)) {
      next();
      return;
    }
    res.status(401).set('www-authenticate', 'Bearer realm="vigil peers"').json({ error: 'this endpoint needs the shared peer token (Authorization: Bearer ...)' });
  };
}
