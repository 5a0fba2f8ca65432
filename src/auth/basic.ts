/**
 * Strict parser of an HTTP Basic `Authorization` header (RFC 7617): the scheme `Basic` in any case, one or
 * more spaces, a base64 token (standard alphabet; padding optional but never misplaced), which decodes as
 * UTF-8 (invalid sequences are refused, not replaced) to `user:password` split at the FIRST colon, so the
 * password may contain colons and the user name may not. Pure; never logs or returns the raw header.
 */

export type BasicParse =
  | { readonly ok: true; readonly name: string; readonly password: string }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' };

const HEADER = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Far above any real credential; stops a giant header costing a decode and an scrypt. */
const MAX_HEADER = 4096;

export function parseBasic(header: string | undefined): BasicParse {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  if (header.length > MAX_HEADER) return { ok: false, reason: 'malformed' };
  const m = HEADER.exec(header.trim());
  if (m === null) return { ok: false, reason: 'malformed' };
  const token = m[1] as string;
  const unpadded = token.replace(/=+$/, '');
  // Length mod 4 of 1 is never valid base64; padding, when present, must complete a 4-char group.
  if (unpadded.length % 4 === 1 || (token.length !== unpadded.length && token.length % 4 !== 0)) {
    return { ok: false, reason: 'malformed' };
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.from(unpadded, 'base64'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return { ok: false, reason: 'malformed' };
  const name = text.slice(0, colon);
  // RFC 7617: the user-id and password contain no control characters.
  if (/[\u0000-\u001f\u007f]/.test(text)) return { ok: false, reason: 'malformed' };
  return { ok: true, name, password: text.slice(colon + 1) };
}
