/**
 * Write bodies are checked before any SQL runs, against a JSON Schema derived from the catalog: one per
 * entity set and write mode (create = POST, update = PATCH, replace = PUT), compiled by ajv once per
 * catalog snapshot (WeakMap keyed by the EntitySet object). Every offending property becomes one
 * `details` entry of a single 400 InvalidBody. Numbers arrive as lossless-json LosslessNumbers: Int64 and
 * Decimal are validated on their raw text (as are their IEEE754Compatible string forms), so no digit is
 * lost; the accepted values leave as text (or a Buffer for Binary) for PostgreSQL to parse.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isLosslessNumber } from 'lossless-json';
import type { Column, EdmType, EntitySet } from '../catalog/types.js';
import { ODataError, type ErrorDetail } from '../errors/odata-error.js';
import {
  durationToInterval, fitsDecimal, fitsInt64, isEdmBinary, isEdmDate, isEdmDateTimeOffset, isEdmDuration, isEdmGuid, isEdmTimeOfDay,
  type DecimalFacets,
} from './edm-formats.js';

export type WriteMode = 'create' | 'update' | 'replace';

/** A validated property value as a SQL parameter: PostgreSQL text input form, bytes, or null. */
export interface BodyValue {
  readonly column: Column;
  readonly value: string | Buffer | null;
}

type Schema = Record<string, unknown> | boolean;

const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: true });
ajv.addFormat('edm-date', { type: 'string', validate: isEdmDate });
ajv.addFormat('edm-timeofday', { type: 'string', validate: isEdmTimeOfDay });
ajv.addFormat('edm-datetimeoffset', { type: 'string', validate: isEdmDateTimeOffset });
ajv.addFormat('edm-guid', { type: 'string', validate: isEdmGuid });
ajv.addFormat('edm-binary', { type: 'string', validate: isEdmBinary });
ajv.addFormat('edm-duration', { type: 'string', validate: isEdmDuration });
ajv.addKeyword({ keyword: 'edmInt64', type: 'string', schemaType: 'boolean', errors: false, validate: (_s: boolean, data: string) => fitsInt64(data) });
ajv.addKeyword({ keyword: 'edmDecimal', type: 'string', schemaType: 'object', errors: false, validate: (s: DecimalFacets, data: string) => fitsDecimal(data, s) });

const INT_RANGES: Partial<Record<EdmType, readonly [number, number]>> = { 'Edm.Int16': [-32768, 32767], 'Edm.Int32': [-2147483648, 2147483647] };

/** The JSON Schema of one property's value (null included when the column is nullable). */
export function valueSchema(col: Column): Record<string, unknown> {
  const t = (type: string | string[]): string[] => [...(Array.isArray(type) ? type : [type]), ...(col.nullable ? ['null'] : [])];
  switch (col.edm) {
    case 'Edm.Int16':
    case 'Edm.Int32': {
      const [minimum, maximum] = INT_RANGES[col.edm]!;
      return { type: t('integer'), minimum, maximum };
    }
    case 'Edm.Int64':
      return { type: t('string'), edmInt64: true };
    case 'Edm.Decimal':
      return { type: t('string'), edmDecimal: { scale: col.scale ?? 0, ...(col.precision !== undefined ? { precision: col.precision } : {}) } };
    case 'Edm.Single':
    case 'Edm.Double':
      return { type: t(['number', 'string']), pattern: '^(-?INF|NaN)$' };
    case 'Edm.Boolean':
      return { type: t('boolean') };
    case 'Edm.String':
      return { type: t('string'), ...(col.maxLength !== undefined ? { maxLength: col.maxLength } : {}) };
    case 'Edm.Guid':
      return { type: t('string'), format: 'edm-guid' };
    case 'Edm.Date':
      return { type: t('string'), format: 'edm-date' };
    case 'Edm.DateTimeOffset':
      return { type: t('string'), format: 'edm-datetimeoffset' };
    case 'Edm.TimeOfDay':
      return { type: t('string'), format: 'edm-timeofday' };
    case 'Edm.Binary':
      return { type: t('string'), format: 'edm-binary' };
    case 'Edm.Duration':
      return { type: t('string'), format: 'edm-duration' };
  }
}

/**
 * Is a value sent for this property written in this mode? Not for computed or read-only columns, nor for
 * keys in PATCH/PUT (the URL names the entity): Protocol 11.4.2 and 11.4.3 say such values MUST be
 * ignored, so they are accepted whatever they are and dropped (Salesforce's edits send every field).
 */
export function writable(col: Column, mode: WriteMode): boolean {
  if (col.isKey && mode !== 'create') return false;
  return !col.readOnly;
}

/** Properties a body must carry: not nullable, no default, writable (PUT: keys come from the URL). */
export function isRequired(col: Column, mode: WriteMode): boolean {
  if (mode === 'update') return false;
  if (mode === 'replace' && col.isKey) return false;
  return !col.nullable && !col.hasDefault && !col.readOnly;
}

export function entitySchema(set: EntitySet, mode: WriteMode, namespace: string): Record<string, unknown> {
  const properties: Record<string, Schema> = {};
  for (const col of set.columns) properties[col.name] = writable(col, mode) ? valueSchema(col) : true;
  const qualified = `${namespace}.${set.typeName}`;
  // the 4.0 name and the 4.01 one without the odata. prefix (JSON Format 4.5)
  properties['@odata.type'] = { type: 'string', enum: [`#${qualified}`, qualified] };
  properties['@type'] = properties['@odata.type'];
  return {
    type: 'object',
    properties,
    // Instance and property annotations (@odata.etag, name@odata.type, ...) are accepted and ignored.
    patternProperties: { '@': true },
    additionalProperties: false,
    required: set.columns.filter((c) => isRequired(c, mode)).map((c) => c.name),
  };
}

const compiled = new WeakMap<EntitySet, Map<string, ValidateFunction>>();

function validatorFor(set: EntitySet, mode: WriteMode, namespace: string): ValidateFunction {
  let bySet = compiled.get(set);
  if (!bySet) compiled.set(set, (bySet = new Map()));
  const k = `${mode}:${namespace}`;
  let v = bySet.get(k);
  if (!v) {
    const schema = entitySchema(set, mode, namespace);
    v = ajv.compile(schema);
    ajv.removeSchema(schema); // the WeakMap owns it: an old catalog snapshot must not stay alive in ajv's cache
    bySet.set(k, v);
  }
  return v;
}

const EDM_FORM: Record<EdmType, string> = {
  'Edm.Int16': 'an integer from -32768 to 32767',
  'Edm.Int32': 'an integer from -2147483648 to 2147483647',
  'Edm.Int64': 'a 64-bit integer (JSON number or string)',
  'Edm.Decimal': 'a decimal number (JSON number or string)',
  'Edm.Single': 'a number (or "INF", "-INF", "NaN")',
  'Edm.Double': 'a number (or "INF", "-INF", "NaN")',
  'Edm.Boolean': 'true or false',
  'Edm.String': 'a string',
  'Edm.Guid': 'a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
  'Edm.Date': 'a date (YYYY-MM-DD)',
  'Edm.DateTimeOffset': 'a date and time with Z or an offset (YYYY-MM-DDThh:mm:ss[.fff]Z)',
  'Edm.TimeOfDay': 'a time of day (hh:mm[:ss[.fff]])',
  'Edm.Binary': 'base64url or base64 text',
  'Edm.Duration': 'an ISO 8601 duration of days and time (e.g. P1DT2H30M)',
};

function propertyMessage(col: Column, e: ErrorObject, data: unknown): string {
  if (data === null && !col.nullable) return `Property ${col.name} may not be null.`;
  if (e.keyword === 'maxLength') return `Property ${col.name} is longer than ${col.maxLength} characters.`;
  if (e.keyword === 'edmDecimal' && col.precision !== undefined) {
    const scale = col.scale === 'variable' ? undefined : col.scale ?? 0;
    return scale === undefined
      ? `Property ${col.name} must be a decimal number of at most ${col.precision} digits.`
      : `Property ${col.name} must be a decimal number with at most ${col.precision - scale} digits before and ${scale} after the decimal point.`;
  }
  return `Property ${col.name} must be ${EDM_FORM[col.edm]} (${col.edm}).`;
}

function toDetails(set: EntitySet, errors: readonly ErrorObject[], view: Record<string, unknown>, namespace: string): ErrorDetail[] {
  const byTarget = new Map<string, ErrorDetail>();
  const add = (target: string, d: ErrorDetail): void => {
    if (!byTarget.has(target)) byTarget.set(target, d);
  };
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') {
      const p = String((e.params as { additionalProperty: string }).additionalProperty);
      add(p, { code: 'UnknownProperty', message: `${set.typeName} has no property "${p.slice(0, 128)}".`, target: p.slice(0, 128) });
      continue;
    }
    if (e.keyword === 'required') {
      const p = String((e.params as { missingProperty: string }).missingProperty);
      add(p, { code: 'InvalidBody', message: `Property ${p} is required: it may not be null and has no default.`, target: p });
      continue;
    }
    const target = e.instancePath.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
    if (target === '@odata.type' || target === '@type') {
      add(target, { code: 'InvalidBody', message: `${target} must be #${namespace}.${set.typeName}.`, target });
      continue;
    }
    const col = set.columnsByName.get(target);
    if (!col) continue;
    add(target, { code: 'InvalidBody', message: propertyMessage(col, e, view[target]), target });
  }
  return [...byTarget.values()];
}

/** The value ajv sees: Int64/Decimal numbers as their raw text, other numbers as JavaScript numbers. */
function validationView(set: EntitySet, body: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (isLosslessNumber(v)) {
      const col = set.columnsByName.get(k);
      view[k] = col && (col.edm === 'Edm.Int64' || col.edm === 'Edm.Decimal') ? v.value : Number(v.value);
    } else view[k] = v;
  }
  return view;
}

function paramValue(col: Column, v: unknown): string | Buffer | null {
  if (v === null) return null;
  if (isLosslessNumber(v)) return col.edm === 'Edm.Int16' || col.edm === 'Edm.Int32' ? String(Number(v.value)) : v.value;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v);
  switch (col.edm) {
    case 'Edm.Single':
    case 'Edm.Double':
      return s === 'INF' ? 'Infinity' : s === '-INF' ? '-Infinity' : s;
    case 'Edm.Binary':
      return Buffer.from(s, 'base64'); // Node's base64 decoder reads both alphabets
    case 'Edm.Duration':
      return durationToInterval(s);
    default:
      return s;
  }
}

/** An unpaired UTF-16 surrogate: no character, and no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** At most this many `details` in one error (one per offending property). */
const MAX_DETAILS = 100;

/**
 * Validates a parsed body (an object from lossless-json) for the set and mode. Returns the values of the
 * sent properties that are written (see `writable`) in column order; throws one 400 listing every
 * offending property.
 */
export function validateBody(set: EntitySet, mode: WriteMode, body: Record<string, unknown>, namespace: string): BodyValue[] {
  // Each property with an annotation or two at most: a body of many more members is refused before
  // the schema lists them one by one (400,000 unknown members made a 38 MB error and froze the server).
  const members = Object.keys(body).length;
  if (members > set.columns.length * 3 + 20) {
    throw new ODataError('InvalidBody', `The request body has ${members} members; ${set.typeName} has ${set.columns.length} properties.`);
  }
  const view = validationView(set, body);
  const validate = validatorFor(set, mode, namespace);
  if (!validate(view)) {
    const details = toDetails(set, validate.errors ?? [], view, namespace).slice(0, MAX_DETAILS);
    const names = details.map((d) => d.target).filter((t): t is string => t !== undefined);
    throw new ODataError('InvalidBody', `The request body is invalid: ${names.join(', ').slice(0, 500) || 'see details'}.`, {
      ...(names.length === 1 ? { target: names[0]! } : {}),
      details,
    });
  }
  // A lone UTF-16 surrogate (\ud800 escaped in the JSON) has no UTF-8 form: PostgreSQL would store U+FFFD.
  const broken = set.columns.filter((c) => writable(c, mode) && typeof body[c.name] === 'string' && LONE_SURROGATE.test(body[c.name] as string));
  if (broken.length > 0) {
    const details = broken.map((c) => ({ code: 'InvalidBody' as const, message: `Property ${c.name} holds an unpaired UTF-16 surrogate, which is not a character.`, target: c.name }));
    throw new ODataError('InvalidBody', `The request body is invalid: ${broken.map((c) => c.name).join(', ')}.`, { ...(broken.length === 1 ? { target: broken[0]!.name } : {}), details });
  }
  const out: BodyValue[] = [];
  for (const col of set.columns) {
    if (writable(col, mode) && Object.prototype.hasOwnProperty.call(body, col.name)) out.push({ column: col, value: paramValue(col, body[col.name]) });
  }
  return out;
}
