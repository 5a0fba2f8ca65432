/**
 * The opaque $skiptoken of server-driven paging: the last row's order values (keyset, never OFFSET) and
 * the rows still owed under the client's $top, signed with an HMAC over the query it belongs to, so that a
 * forged token, or a token replayed with another $filter/$orderby/$search, is a 400.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ODataError } from '../errors/odata-error.js';
import type { PageToken } from './read.js';

function sign(secret: string, payload: string, shape: string): string {
  return createHmac('sha256', secret).update(payload).update('\n').update(shape).digest('base64url').slice(0, 22);
}

export function encodeSkipToken(token: PageToken, secret: string, shape: string): string {
  const payload = Buffer.from(JSON.stringify(token.remaining !== undefined ? [token.after, token.remaining] : [token.after])).toString('base64url');
  return `${payload}.${sign(secret, payload, shape)}`;
}

export function decodeSkipToken(text: string, secret: string, shape: string, orderCount: number): PageToken {
  const bad = (): never => {
    throw new ODataError('InvalidSkipToken', 'The $skiptoken is invalid or does not belong to this query; follow @odata.nextLink as given.', { target: '$skiptoken' });
  };
  const dot = text.indexOf('.');
  if (dot < 0) bad();
  const payload = text.slice(0, dot);
  const mac = Buffer.from(text.slice(dot + 1));
  const want = Buffer.from(sign(secret, payload, shape));
  if (mac.length !== want.length || !timingSafeEqual(mac, want)) bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return bad();
  }
  if (!Array.isArray(parsed) || parsed.length < 1 || parsed.length > 2) return bad();
  const [after, remaining] = parsed as [unknown, unknown];
  if (!Array.isArray(after) || after.length !== orderCount || !after.every((v) => v === null || typeof v === 'string')) return bad();
  if (remaining !== undefined && (typeof remaining !== 'number' || !Number.isSafeInteger(remaining) || remaining < 0)) return bad();
  return { after: after as (string | null)[], ...(remaining !== undefined ? { remaining: remaining as number } : {}) };
}
