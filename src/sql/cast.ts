/**
 * cast(value, Edm.Type) in $filter (URL Conventions 5.1.1.10.1): "if the cast fails, the cast function
 * returns null". PostgreSQL's own casts raise an error instead (invalid input, out of range) or do not
 * exist for a pair of types (a planning error). So each cast is guarded: text is tested against the
 * target's literal form first, numbers against the target's range, and a pair of types OData defines
 * no conversion for is null. Nested CASEs keep PostgreSQL from evaluating a cast whose guard is false
 * (it folds constant conditions arm by arm).
 */
import type { EdmType } from '../catalog/types.js';
import { isInteger } from '../plan/typed-expr.js';
import { base64urlText, durationText } from './json.js';

/** The PostgreSQL type of each Edm type: parameters are cast to it, and cast() targets it. */
export const PARAM_CAST = {
  'Edm.Int16': 'int2',
  'Edm.Int32': 'int4',
  'Edm.Int64': 'int8',
  'Edm.Decimal': 'numeric',
  'Edm.Single': 'float4',
  'Edm.Double': 'float8',
  'Edm.Boolean': 'bool',
  'Edm.String': 'text',
  'Edm.Guid': 'uuid',
  'Edm.Date': 'date',
  'Edm.DateTimeOffset': 'timestamptz',
  'Edm.TimeOfDay': 'time',
  'Edm.Binary': 'bytea',
  'Edm.Duration': 'interval',
} as const satisfies Record<EdmType, string>;

const RANGE: Partial<Record<EdmType, readonly [string, string]>> = {
  'Edm.Int16': ['-32768', '32767'],
  'Edm.Int32': ['-2147483648', '2147483647'],
  'Edm.Int64': ['-9223372036854775808', '9223372036854775807'],
  'Edm.Single': ['-3.4028234e38', '3.4028234e38'],
  'Edm.Double': ['-1.7976931348623157e308', '1.7976931348623157e308'],
};

/** The literal forms text must have to become each type (anchored; PostgreSQL regular expressions). */
const TEXT_FORM: Partial<Record<EdmType, string>> = {
  'Edm.Int16': '^\\s*[+-]?[0-9]+\\s*$',
  'Edm.Int32': '^\\s*[+-]?[0-9]+\\s*$',
  'Edm.Int64': '^\\s*[+-]?[0-9]+\\s*$',
  'Edm.Decimal': '^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]{1,4})?\\s*$',
  'Edm.Single': '^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]{1,4})?\\s*$',
  'Edm.Double': '^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]{1,4})?\\s*$',
  'Edm.Boolean': '^\\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\\s*$',
  'Edm.Guid': '^\\s*[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\s*$',
  'Edm.Date': '^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$',
  'Edm.DateTimeOffset': '^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})\\s*$',
  'Edm.TimeOfDay': '^\\s*[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?\\s*$',
};

const NUMERIC: readonly EdmType[] = ['Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Single', 'Edm.Double'];

/** The value of `v` within the target's range, else null (a number that does not fit fails the cast). */
function inRange(v: string, to: EdmType): string {
  const r = RANGE[to];
  if (!r) return `(${v})::${PARAM_CAST[to]}`;
  return `(CASE WHEN (${v})::numeric BETWEEN ${r[0]} AND ${r[1]} THEN (${v})::${PARAM_CAST[to]} END)`;
}

/**
 * cast(v, Edm.String): "the literal representation used in payloads" (5.1.1.10.1), so the text that
 * compares equal is the one the client read: base64url bytes, ISO 8601 instants with an offset and
 * durations in days and time, INF/-INF. (The session runs with TimeZone UTC and IntervalStyle iso_8601.)
 */
function stringForm(v: string, from: EdmType): string {
  switch (from) {
    case 'Edm.Binary':
      return base64urlText(`(${v})`);
    case 'Edm.DateTimeOffset':
      return `(to_json((${v})::timestamptz) #>> '{}')`;
    case 'Edm.Duration':
      return `(${durationText(`(${v})`)})`;
    case 'Edm.Single':
    case 'Edm.Double':
      return `(CASE WHEN (${v}) = 'Infinity' THEN 'INF' WHEN (${v}) = '-Infinity' THEN '-INF' ELSE (${v})::text END)`;
    default:
      return `(${v})::text`;
  }
}

/** SQL for cast(v, to) of a value of type `from`: null where OData's cast fails or is not defined. */
export function castSql(v: string, from: EdmType, to: EdmType): string {
  if (from === to) return v;
  if (to === 'Edm.String') return stringForm(v, from);
  if (from === 'Edm.String') {
    const form = TEXT_FORM[to];
    if (to === 'Edm.Single' || to === 'Edm.Double') {
      // INF, -INF and NaN are literals of these types
      const special = `WHEN btrim(${v}) = 'INF' THEN 'Infinity'::${PARAM_CAST[to]} WHEN btrim(${v}) = '-INF' THEN '-Infinity'::${PARAM_CAST[to]} WHEN btrim(${v}) = 'NaN' THEN 'NaN'::${PARAM_CAST[to]}`;
      return `(CASE WHEN ${v} ~ '${form}' THEN ${inRange(v, to)} ${special} END)`;
    }
    if (form === undefined) return `NULL::${PARAM_CAST[to]}`; // Binary and Duration from text: not evaluated here
    const value = RANGE[to] ? inRange(`btrim(${v})`, to) : `(${v})::${PARAM_CAST[to]}`;
    return `(CASE WHEN ${v} ~ '${form}' THEN ${value} END)`;
  }
  if (NUMERIC.includes(from) && NUMERIC.includes(to)) {
    // a float NaN or infinity fits no integer or decimal: null
    const finite = (from === 'Edm.Single' || from === 'Edm.Double') && (isInteger(to) || to === 'Edm.Decimal');
    return finite ? `(CASE WHEN ${v} NOT IN ('NaN', 'Infinity', '-Infinity') THEN ${inRange(v, to)} END)` : inRange(v, to);
  }
  if (from === 'Edm.Date' && to === 'Edm.DateTimeOffset') return `(${v})::timestamp at time zone 'UTC'`;
  if (from === 'Edm.DateTimeOffset' && (to === 'Edm.Date' || to === 'Edm.TimeOfDay')) return `(${v} at time zone 'UTC')::${PARAM_CAST[to]}`;
  return `NULL::${PARAM_CAST[to]}`;
}
