import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Request, RequestHandler } from 'express';

/** Compared against when the user is unknown, so an unknown user costs as much as a wrong password. */
const DUMMY_HASH = '$2b$10$iQGkmf2LuHte10FVtuKKH.xYZSRtLRTNkli7jCmbQWEXCjClx/9SC';

/** The user and password of an Authorization: Basic header; undefined when there is none or it is malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined || header.length > 4096) return undefined;
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface BasicAuthOptions {
  /** How many successful verifications to remember. */
  cacheSize?: number;
  /** bcrypt.compare, injected so tests can count the calls. */
  compare?: (password: string, hash: string) => Promise<boolean>;
}

/**
 * Checks basic auth credentials against bcrypt hashes. bcrypt is slow on purpose, and a scraper
 * sends the same credentials every 15 s, so successful checks are remembered, keyed by an HMAC
 * (under a per-process random key) of user, hash and password: the cache never holds a
 * password, a key cannot be guessed from outside, and a changed hash misses the cache. Checks
 * of the same credentials that arrive together share one bcrypt run.
 */
export class BasicAuth {
  readonly #secret = randomBytes(32);
  readonly #verified = new Map<string, true>();
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #cacheSize: number;
  readonly #compare: (password: string, hash: string) => Promise<boolean>;

  constructor(opts: BasicAuthOptions = {}) {
    this.#cacheSize = opts.cacheSize ?? 256;
    this.#compare = opts.compare ?? ((p, h) => bcrypt.compare(p, h));
  }

  async verify(users: ReadonlyMap<string, string>, user: string, password: string): Promise<boolean> {
    const hash = users.get(user);
    const key = this.#key(user, hash ?? DUMMY_HASH, password);
    if (hash !== undefined && this.#verified.has(key)) return true;
    let check = this.#pending.get(key);
    if (!check) {
      check = this.#compare(password, hash ?? DUMMY_HASH).then(
        (ok) => ok && hash !== undefined,
        () => false,
      );
      this.#pending.set(key, check);
      void check.finally(() => this.#pending.delete(key));
    }
    const ok = await check;
    if (ok) this.#remember(key);
    return ok;
  }

  #key(user: string, hash: string, password: string): string {
    const h = createHmac('sha256', this.#secret);
    for (const part of [user, hash, password]) {
      const b = Buffer.from(part, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      h.update(len).update(b);
    }
    return h.digest('base64');
  }

  #remember(key: string): void {
    this.#verified.delete(key);
    this.#verified.set(key, true);
    if (this.#verified.size > this.#cacheSize) this.#verified.delete(this.#verified.keys().next().value!);
  }
}

export interface AuthMiddlewareOptions {
  auth: BasicAuth;
  /** The users in force now (the web config may be reloaded); empty: no authentication. */
  users: () => ReadonlyMap<string, string>;
  /** Paths answered without credentials (liveness and readiness, which reveal nothing). */
  exempt: ReadonlySet<string>;
  /** Requests let in on other grounds (the peer token other agents present). */
  acceptAlso?: (req: Request) => boolean;
  onRejected?: () => void;
}

export function basicAuthMiddleware(opts: AuthMiddlewareOptions): RequestHandler {
  return (req, res, next) => {
    const users = opts.users();
    if (users.size === 0 || opts.exempt.has(req.path) || opts.acceptAlso?.(req)) {
      next();
      return;
    }
    const deny = () => {
      opts.onRejected?.();
      res.status(401).set('WWW-Authenticate', 'Basic realm="vigil", charset="UTF-8"').json({ error: 'authentication required: give a user and password (HTTP basic auth)' });
    };
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) {
      deny();
      return;
    }
    opts.auth.verify(users, creds.user, creds.password).then(
      (ok) => {
        if (ok) next();
        else deny();
      },
      (err: unknown) => next(err),
    );
  };
}
