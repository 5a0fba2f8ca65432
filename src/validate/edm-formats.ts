/**
 * Pure checks of OData JSON primitive values that JSON Schema's own keywords cannot express: the
 * textual forms of Edm.Date, DateTimeOffset, TimeOfDay, Guid, Binary and Duration (JSON Format 7.1,
 * ABNF), and the digit counts of Edm.Decimal / range of Edm.Int64 measured on the number's raw text
 * (JSON.parse would already have lost digits). Registered as ajv formats and keywords by entity-schema.ts.
 */

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export function isEdmDate(s: string): boolean {
  const m = DATE.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,12})?)?$/;
export function isEdmTimeOfDay(s: string): boolean {
  return TIME.test(s);
}

const DTO = /^(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,12})?)?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
export function isEdmDateTimeOffset(s: string): boolean {
  const m = DTO.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export function isEdmGuid(s: string): boolean {
  return GUID.test(s);
}

/** base64 (RFC 4648 section 4) or base64url (section 5, what OData writes), padded or not. */
const B64 = /^[A-Za-z0-9+/_-]*(={0,2})$/;
export function isEdmBinary(s: string): boolean {
  const m = B64.exec(s);
  if (!m) return false;
  if (m[1]!.length > 0) return s.length % 4 === 0;
  return s.length % 4 !== 1;
}

const DURATION = /^(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
export function isEdmDuration(s: string): boolean {
  const m = DURATION.exec(s);
  if (!m) return false;
  const hasTime = s.includes('T');
  if (hasTime && m[3] === undefined && m[4] === undefined && m[5] === undefined) return false;
  return m[2] !== undefined || hasTime;
}

/**
 * An OData Duration as PostgreSQL interval input (filters, keys and bodies): PostgreSQL accepts ISO 8601
 * with signed fields ('P-1DT-2H') but not a leading sign ('-P1DT2H' is a syntax error), so the sign moves
 * into every field.
 */
export function durationToInterval(s: string): string {
  if (!s.startsWith('-')) return s;
  return s.slice(1).replace(/(\d+(?:\.\d+)?)([DHMS])/g, '-$1$2');
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Digits before and after the decimal point of a decimal number's text, or undefined if it is not one. */
export function decimalDigits(text: string): { readonly int: number; readonly frac: number } | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  let intPart = m[2] ?? '';
  let fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1000) return undefined;
  if (exp > 0) {
    const moved = fracPart.padEnd(exp, '0');
    intPart += moved.slice(0, exp);
    fracPart = moved.slice(exp);
  } else if (exp < 0) {
    const moved = intPart.padStart(-exp, '0');
    fracPart = moved.slice(moved.length + exp) + fracPart;
    intPart = moved.slice(0, moved.length + exp);
  }
  intPart = intPart.replace(/^0+/, '');
  fracPart = fracPart.replace(/0+$/, '');
  return { int: intPart.length, frac: fracPart.length };
}

export interface DecimalFacets {
  readonly precision?: number;
  readonly scale: number | 'variable';
}

/** Does the decimal text fit numeric(precision, scale)? (at most precision - scale integer digits, scale decimals) */
export function fitsDecimal(text: string, f: DecimalFacets): boolean {
  const d = decimalDigits(text);
  if (!d) return false;
  if (f.scale === 'variable') return f.precision === undefined || d.int + d.frac <= f.precision;
  if (d.frac > f.scale) return false;
  return f.precision === undefined || d.int <= f.precision - f.scale;
}

const INT = /^-?\d+$/;
export function fitsInt64(text: string): boolean {
  if (!INT.test(text) || text.length > 21) return false;
  const v = BigInt(text);
  return v >= -9223372036854775808n && v <= 9223372036854775807n;
}
