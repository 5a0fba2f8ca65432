/**
 * Typing and coercion of primitive literals: the natural Edm type of a literal, and its conversion to the
 * type of the expression it meets (an int literal compared with a Decimal column becomes a Decimal, a date
 * literal compared with a DateTimeOffset becomes midnight UTC, a quoted GUID meets a Guid column).
 */
import type { EdmType } from '../catalog/types.js';
import type { Literal } from '../odata/literal.js';
import { assertNever } from '../errors/odata-error.js';
import type { TypedExpr } from './typed-expr.js';
import { isInteger, isNumeric } from './typed-expr.js';

const INT32 = [-2147483648n, 2147483647n] as const;
const INT64 = [-9223372036854775808n, 9223372036854775807n] as const;

function intType(text: string): EdmType {
  const v = BigInt(text);
  if (v >= INT32[0] && v <= INT32[1]) return 'Edm.Int32';
  if (v >= INT64[0] && v <= INT64[1]) return 'Edm.Int64';
  return 'Edm.Decimal';
}

function doubleText(text: string): string {
  if (text === 'INF') return 'Infinity';
  if (text === '-INF') return '-Infinity';
  return text;
}

/** The typed node of a literal in its natural type. */
export function typeLiteral(lit: Literal): TypedExpr {
  const c = (value: string | boolean, type: EdmType): TypedExpr => ({ kind: 'const', value, type, nullable: false });
  switch (lit.kind) {
    case 'null':
      return { kind: 'null', type: undefined, nullable: true };
    case 'boolean':
      return c(lit.value, 'Edm.Boolean');
    case 'int':
      return c(lit.text, intType(lit.text));
    case 'decimal':
      return c(lit.text, 'Edm.Decimal');
    case 'double':
      return c(doubleText(lit.text), 'Edm.Double');
    case 'string':
      return c(lit.value, 'Edm.String');
    case 'guid':
      return c(lit.text, 'Edm.Guid');
    case 'date':
      return c(lit.text, 'Edm.Date');
    case 'dateTimeOffset':
      return c(lit.text, 'Edm.DateTimeOffset');
    case 'timeOfDay':
      return c(lit.text, 'Edm.TimeOfDay');
    case 'duration':
      return c(lit.text, 'Edm.Duration');
    case 'binary':
      return c(lit.base64, 'Edm.Binary');
    default:
      return assertNever(lit, 'literal');
  }
}

const DURATION = /^-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * Converts a constant (or null) to `target` when OData allows it implicitly; returns the node unchanged
 * when no conversion applies (the caller then checks compatibility).
 */
export function coerce(e: TypedExpr, target: EdmType): TypedExpr {
  if (e.kind === 'null') return e.type === undefined ? { kind: 'null', type: target, nullable: true } : e;
  if (e.kind !== 'const' || e.type === target) return e;
  const to = (value: string | boolean): TypedExpr => ({ kind: 'const', value, type: target, nullable: false });
  if (isNumeric(e.type) && isNumeric(target)) {
    if (isInteger(target)) {
      // an int literal meets a smaller int column in its own (wider) type: PostgreSQL compares across
      // int2/int4/int8 with the column's index; a fraction never becomes an integer
      return target === 'Edm.Int64' && isInteger(e.type) ? to(e.value) : e;
    }
    if (target === 'Edm.Decimal' && (e.value === 'Infinity' || e.value === '-Infinity' || e.value === 'NaN')) return e;
    return to(e.value);
  }
  if (e.type === 'Edm.String' && target === 'Edm.Guid' && typeof e.value === 'string' && GUID.test(e.value)) return to(e.value.toLowerCase());
  // 4.01 allows a duration without its prefix: 'P1D'
  if (e.type === 'Edm.String' && target === 'Edm.Duration' && typeof e.value === 'string' && DURATION.test(e.value)) return to(e.value);
  if (e.type === 'Edm.Date' && target === 'Edm.DateTimeOffset') return to(`${String(e.value)}T00:00:00Z`);
  return e;
}
