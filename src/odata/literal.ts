/**
 * OData primitive literals (URL Conventions 5.1.1.6 and the ABNF's primitiveLiteral): recognises one
 * literal at a position of a string and returns its typed AST node. Used by key predicates, $filter,
 * parameter aliases and skip tokens. Syntax only: whether a literal fits a property is decided in plan/.
 */
import { ODataError } from '../errors/odata-error.js';

export type Literal =
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** integer digits with optional sign, e.g. "-12" (Edm.Int16/32/64 or Decimal by context) */
  | { readonly kind: 'int'; readonly text: string }
  /** decimal with a fraction, e.g. "1.50" */
  | { readonly kind: 'decimal'; readonly text: string }
  /** with an exponent, or NaN / INF / -INF */
  | { readonly kind: 'double'; readonly text: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'guid'; readonly text: string }
  | { readonly kind: 'date'; readonly text: string }
  | { readonly kind: 'dateTimeOffset'; readonly text: string }
  | { readonly kind: 'timeOfDay'; readonly text: string }
  /** ISO 8601 duration text without the duration'' wrapper, e.g. "P1DT2H" */
  | { readonly kind: 'duration'; readonly text: string }
  /** standard base64 (converted from the URL's base64url) */
  | { readonly kind: 'binary'; readonly base64: string };

export type LiteralKind = Literal['kind'];

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/;
const DATE = /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])/;
const DATETIME = /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]{1,12})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])/i;
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,12})?)?/;
const NUMBER = /^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/;
const DURATION_BODY = /^-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/i;
const IDENT_CHAR = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}_.]/u;

export interface LiteralMatch {
  readonly literal: Literal;
  /** index just after the literal */
  readonly end: number;
}

function boundary(src: string, i: number): boolean {
  return i >= src.length || !IDENT_CHAR.test(src[i]!);
}

/** Reads a single-quoted string starting at `start` (which holds the quote). */
export function readQuoted(src: string, start: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= src.length) throw new ODataError('SyntaxError', `Unterminated string literal starting at position ${start}.`);
    const ch = src[i]!;
    if (ch === "'") {
      if (src[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    out += ch;
    i++;
  }
}

/**
 * Tries to read a primitive literal at `pos`. Returns undefined when no literal starts there (the caller
 * may then try an identifier); throws a 400 when a literal starts but is malformed.
 */
export function matchLiteral(src: string, pos: number): LiteralMatch | undefined {
  const rest = src.slice(pos);
  const ch = rest[0];
  if (ch === undefined) return undefined;
  if (ch === "'") {
    const q = readQuoted(src, pos);
    return { literal: { kind: 'string', value: q.value }, end: q.end };
  }
  const word = /^[A-Za-z]+/.exec(rest)?.[0] ?? '';
  const lower = word.toLowerCase();
  if (word.length > 0 && rest[word.length] === "'") {
    // typed literal: duration'...', binary'...', X'...', and OData 4.0's type-prefixed forms
    const q = readQuoted(src, pos + word.length);
    return { literal: typedLiteral(lower, q.value, pos), end: q.end };
  }
  if (word.length > 0 && boundary(src, pos + word.length)) {
    // ABNF string literals are case-insensitive: TRUE and Null are valid in URLs
    if (lower === 'null') return { literal: { kind: 'null' }, end: pos + 4 };
    if (lower === 'true' || lower === 'false') return { literal: { kind: 'boolean', value: lower === 'true' }, end: pos + word.length };
    if (word === 'NaN' || word === 'INF') return { literal: { kind: 'double', text: word }, end: pos + word.length };
  }
  if (rest.startsWith('-INF') && boundary(src, pos + 4)) return { literal: { kind: 'double', text: '-INF' }, end: pos + 4 };
  // GUIDs and date/time values start with hex digits or digits; try the longest forms first.
  const guid = GUID.exec(rest);
  if (guid && boundary(src, pos + 36)) return { literal: { kind: 'guid', text: guid[0].toLowerCase() }, end: pos + 36 };
  if (/^-?[0-9]/.test(rest)) {
    const dt = DATETIME.exec(rest);
    if (dt && boundary(src, pos + dt[0].length)) {
      // ABNF quoted strings are case-insensitive: 2021-03-06t10:06:08z is the same instant
      validDate(dt[0].slice(0, dt[0].search(/T/i)), pos);
      return { literal: { kind: 'dateTimeOffset', text: dt[0].toUpperCase() }, end: pos + dt[0].length };
    }
    const d = DATE.exec(rest);
    if (d && boundary(src, pos + d[0].length) && src[pos + d[0].length] !== 'T' && src[pos + d[0].length] !== 't') {
      validDate(d[0], pos);
      return { literal: { kind: 'date', text: d[0] }, end: pos + d[0].length };
    }
    const t = TIME.exec(rest);
    if (t && boundary(src, pos + t[0].length)) return { literal: { kind: 'timeOfDay', text: t[0] }, end: pos + t[0].length };
  }
  const n = NUMBER.exec(rest);
  if (n && /[0-9]/.test(rest[0] === '-' || rest[0] === '+' ? rest[1] ?? '' : rest[0]!)) {
    let end = pos + n[0].length;
    // 4.0 type suffixes (1L, 1.5M, 1.5d, 1.5f) are accepted for compatibility
    if (/[LlMmDdFf]/.test(src[end] ?? '') && boundary(src, end + 1)) end++;
    if (!boundary(src, end)) return undefined;
    const text = n[0].replace(/^\+/, '');
    const kind = n[2] !== undefined ? 'double' : n[1] !== undefined ? 'decimal' : 'int';
    return { literal: { kind, text } as Literal, end };
  }
  return undefined;
}

function validDate(text: string, pos: number): void {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})$/.exec(text)!;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  if (d > days) throw new ODataError('InvalidLiteral', `Invalid date "${text}" at position ${pos}.`);
}

function typedLiteral(prefix: string, body: string, pos: number): Literal {
  switch (prefix) {
    case 'duration':
      if (!DURATION_BODY.test(body)) throw new ODataError('InvalidLiteral', `Invalid duration literal "${body}" at position ${pos}.`);
      return { kind: 'duration', text: body.toUpperCase() };
    case 'binary':
    case 'x': {
      if (prefix === 'x') {
        if (!/^([0-9A-Fa-f]{2})*$/.test(body)) throw new ODataError('InvalidLiteral', `Invalid binary literal at position ${pos}.`);
        return { kind: 'binary', base64: Buffer.from(body, 'hex').toString('base64') };
      }
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
        throw new ODataError('InvalidLiteral', `Invalid binary literal at position ${pos}: not base64url.`);
      }
      return { kind: 'binary', base64: Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('base64') };
    }
    case 'guid':
      if (!GUID.test(body) || body.length !== 36) throw new ODataError('InvalidLiteral', `Invalid guid literal at position ${pos}.`);
      return { kind: 'guid', text: body.toLowerCase() };
    case 'datetimeoffset': {
      const m = matchLiteral(body, 0);
      if (!m || m.literal.kind !== 'dateTimeOffset' || m.end !== body.length) throw new ODataError('InvalidLiteral', `Invalid DateTimeOffset literal at position ${pos}.`);
      return m.literal;
    }
    case 'date': {
      const m = matchLiteral(body, 0);
      if (!m || m.literal.kind !== 'date' || m.end !== body.length) throw new ODataError('InvalidLiteral', `Invalid Date literal at position ${pos}.`);
      return m.literal;
    }
    case 'timeofday': {
      const m = matchLiteral(body, 0);
      if (!m || m.literal.kind !== 'timeOfDay' || m.end !== body.length) throw new ODataError('InvalidLiteral', `Invalid TimeOfDay literal at position ${pos}.`);
      return m.literal;
    }
    default:
      throw new ODataError('InvalidLiteral', `Unknown typed literal "${prefix}'...'" at position ${pos}.`);
  }
}
