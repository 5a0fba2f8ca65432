/**
 * Password storage and checking. A configured password is either an scrypt hash written by
 * `npm run hash-password` (`scrypt$N$r$p$saltBase64$hashBase64`) or, when it does not start with
 * `scrypt$`, a plain secret that came from the environment through `${ENV}` expansion. Both paths compare
 * in constant time so that response timing does not reveal how much of a guess was right.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'scrypt$';
const DEFAULTS = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Memory scrypt needs is 128 * N * r bytes; allow headroom over Node's 32 MiB default for stronger N. */
function maxmemFor(N: number, r: number): number {
  return 256 * N * r + 1024 * 1024;
}

/** Hashes a password for the config file: `scrypt$16384$8$1$<salt>$<hash>`. */
export async function hashPassword(plain: string): Promise<string> {
  const { N, r, p } = DEFAULTS;
  const salt = randomBytes(DEFAULTS.saltBytes);
  const key = await scrypt(plain, salt, DEFAULTS.keyBytes, { N, r, p, maxmem: maxmemFor(N, r) });
  return `${PREFIX}${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export interface ParsedHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `scrypt$N$r$p$salt$hash`; undefined when the string is not a well-formed hash. */
export function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, nS, rS, pS, saltS, hashS] = parts as [string, string, string, string, string, string];
  const N = Number(nS);
  const r = Number(rS);
  const p = Number(pS);
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0)) return undefined;
  if ((N & (N - 1)) !== 0 || N < 2 || N > 2 ** 22 || r > 64 || p > 16) return undefined;
  if (!B64.test(saltS) || !B64.test(hashS)) return undefined;
  const salt = Buffer.from(saltS, 'base64');
  const hash = Buffer.from(hashS, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return undefined;
  return { N, r, p, salt, hash };
}

/** True when `stored` is an scrypt hash string (well formed or not): such a value is never a plain secret. */
export function isHashed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s.normalize('NFC'), 'utf8').digest();
}

/**
 * Checks `given` against `stored`. A malformed `scrypt$...` value never matches (it is a config mistake,
 * not a plain secret; the config loader or the authenticator reports it).
 */
export async function verifyPassword(stored: string, given: string): Promise<boolean> {
  if (isHashed(stored)) {
    const h = parseHash(stored);
    if (h === undefined) return false;
    const key = await scrypt(given, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmemFor(h.N, h.r) });
    return timingSafeEqual(key, h.hash);
  }
  // Digests have equal length whatever the inputs, so timingSafeEqual never throws and leaks no length.
  return timingSafeEqual(sha256(stored), sha256(given));
}
