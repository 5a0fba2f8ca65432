/**
 * Checks an `Authorization` header against the configured users. Several entries may share a name: during a
 * credential rotation the old and the new password both work until the old one's `expiresAt`. A matching
 * expired entry yields 'expired' only when no valid entry matches.
 *
 * Speed: scrypt costs ~50 ms of a libuv thread, far too much per request at thousands of requests per
 * second, so successful verifications are cached in memory, keyed by the sha256 of the header (the header
 * itself is never kept), in a bounded LRU; expiry is re-checked on every hit. Concurrent first requests with
 * the same header share one verification. Failures are never cached. A new config (changed password)
 * means a new authenticator and thus an empty cache.
 */
import * as crypto from 'node:crypto';
import type { UserConfig } from '../config/types.js';
import { parseBasic } from './basic.js';
import { isHashed, verifyPassword } from './password.js';
import { userFromConfig, type AuthUser } from './user.js';

export type { AuthUser } from './user.js';

export type AuthFailureReason = 'missing' | 'malformed' | 'unknown_user' | 'wrong_password' | 'expired';

export type AuthResult =
  | { readonly ok: true; readonly user: AuthUser }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly userName?: string };

export interface AuthenticatorOptions {
  /** Successful verifications kept (LRU). Default 1000. */
  readonly cacheSize?: number;
  /** Replaceable for tests (e.g. to count scrypt calls). */
  readonly verify?: (stored: string, given: string) => Promise<boolean>;
}

export interface Authenticator {
  (authorizationHeader: string | undefined, now: Date): Promise<AuthResult>;
  /** The user of a header already verified and not expired, without any password work; else undefined. */
  cached(authorizationHeader: string | undefined, now: Date): AuthUser | undefined;
}

interface Entry {
  readonly cfg: UserConfig;
  readonly user: AuthUser;
}

// A fixed scrypt hash of a random secret: verifying against it makes an unknown user name cost the same
// time as a known one, so timing does not tell which names exist.
const DUMMY_HASH = 'scrypt$16384$8$1$3q2+7wAAAAAAAAAAAAAAAA==$sPQpQlM8hjDdDz3pI2Y5bnVnF9lHf0dBCGhsj3S5S7Y=';

/** crypto.hash (Node >= 20.12) digests a short string in a third of createHash's time. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha256 = oneShot
  ? (s: string): string => oneShot('sha256', s, 'base64')
  : (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('base64');

function isExpired(cfg: UserConfig, now: Date): boolean {
  return cfg.expiresAt !== undefined && cfg.expiresAt.getTime() <= now.getTime();
}

export function createAuthenticator(users: readonly UserConfig[], opts: AuthenticatorOptions = {}): Authenticator {
  const verify = opts.verify ?? verifyPassword;
  const cacheSize = Math.max(1, opts.cacheSize ?? 1000);
  const byName = new Map<string, Entry[]>();
  for (const cfg of users) {
    const list = byName.get(cfg.name) ?? [];
    list.push({ cfg, user: userFromConfig(cfg) });
    byName.set(cfg.name, list);
  }
  const anyHashed = users.some((u) => isHashed(u.password));
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<AuthResult>>();

  const keyOf = (header: string): string => sha256(header);

  function cachedByKey(key: string, now: Date): AuthUser | undefined {
    const hit = cache.get(key);
    if (hit === undefined) return undefined;
    cache.delete(key);
    if (isExpired(hit.cfg, now)) return undefined; // dropped; the full check decides (another entry may be valid)
    cache.set(key, hit); // most recently used goes last
    return hit.user;
  }

  async function check(header: string, key: string, now: Date): Promise<AuthResult> {
    const parsed = parseBasic(header);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    const candidates = byName.get(parsed.name);
    if (candidates === undefined) {
      if (anyHashed) await verify(DUMMY_HASH, parsed.password);
      return { ok: false, reason: 'unknown_user', userName: parsed.name };
    }
    const valid = candidates.filter((c) => !isExpired(c.cfg, now));
    for (const c of valid) {
      if (await verify(c.cfg.password, parsed.password)) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(key, c);
        return { ok: true, user: c.user };
      }
    }
    for (const c of candidates) {
      if (isExpired(c.cfg, now) && (await verify(c.cfg.password, parsed.password))) {
        return { ok: false, reason: 'expired', userName: parsed.name };
      }
    }
    return { ok: false, reason: 'wrong_password', userName: parsed.name };
  }

  const authenticate = async (authorizationHeader: string | undefined, now: Date): Promise<AuthResult> => {
    if (authorizationHeader === undefined || authorizationHeader.trim() === '') return { ok: false, reason: 'missing' };
    const key = keyOf(authorizationHeader);
    const user = cachedByKey(key, now);
    if (user !== undefined) return { ok: true, user };
    const pending = inflight.get(key);
    if (pending !== undefined) return pending;
    const p = check(authorizationHeader, key, now).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };

  return Object.assign(authenticate, {
    cached(authorizationHeader: string | undefined, now: Date): AuthUser | undefined {
      if (authorizationHeader === undefined || authorizationHeader === '') return undefined;
      return cachedByKey(keyOf(authorizationHeader), now);
    },
  });
}
