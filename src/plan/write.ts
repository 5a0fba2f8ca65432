/**
 * Pure: validated body values + key + preconditions -> a WritePlan (insert, update, delete) whose every
 * reference is a catalog Column. PATCH assigns only what was sent; PUT also resets every other writable
 * column to its default (or null); a key property repeated in a PATCH/PUT body must equal the URL's key
 * (Salesforce sends every field) and is then dropped; If-Match becomes a list of ETag hashes to compare
 * in the same statement as the write.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import { ODataError } from '../errors/odata-error.js';
import type { BodyValue } from '../validate/entity-schema.js';
import type { KeyValue } from './read.js';

export type Assignment =
  | { readonly kind: 'value'; readonly column: Column; readonly value: string | Buffer | null }
  | { readonly kind: 'default'; readonly column: Column };

/** undefined: no precondition; 'any': If-Match: *; otherwise the ETag hashes any of which must match. */
export type Precondition = undefined | 'any' | readonly string[];

export interface InsertPlan {
  readonly kind: 'insert';
  readonly set: EntitySet;
  readonly values: readonly BodyValue[];
}

export interface UpdatePlan {
  readonly kind: 'update';
  readonly set: EntitySet;
  readonly key: readonly KeyValue[];
  readonly assignments: readonly Assignment[];
  readonly ifMatch: Precondition;
}

export interface DeletePlan {
  readonly kind: 'delete';
  readonly set: EntitySet;
  readonly key: readonly KeyValue[];
  readonly ifMatch: Precondition;
}

export type WritePlan = InsertPlan | UpdatePlan | DeletePlan;

/**
 * Parses If-Match: `*`, or a comma-separated list of entity tags, weak (`W/"x"`) or strong (`"x"`).
 * Returns the hashes (the part between the quotes).
 */
export function parseIfMatch(header: string | undefined): Precondition {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return 'any';
  const tags: string[] = [];
  const re = /\s*(?:W\/)?"([^"]*)"\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while (end < header.length && (m = re.exec(header)) !== null) {
    tags.push(m[1]!);
    end = re.lastIndex;
  }
  if (end < header.trim().length || tags.length === 0) {
    throw new ODataError('BadRequest', 'If-Match must be * or a list of entity tags such as W/"abc".');
  }
  return tags;
}

/** Are a key value from the body (PostgreSQL text form) and one from the URL the same value? */
export function sameKeyValue(col: Column, bodyValue: string | Buffer | null, urlValue: string | boolean): boolean {
  if (bodyValue === null) return false;
  const url = String(urlValue);
  if (Buffer.isBuffer(bodyValue)) return bodyValue.equals(Buffer.from(url, 'base64'));
  switch (col.edm) {
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
      try {
        return BigInt(bodyValue) === BigInt(url);
      } catch {
        return false;
      }
    case 'Edm.Decimal':
    case 'Edm.Single':
    case 'Edm.Double':
      return Number(bodyValue) === Number(url) && Number.isFinite(Number(url));
    case 'Edm.Guid':
      return bodyValue.toLowerCase() === url.toLowerCase();
    case 'Edm.DateTimeOffset':
      return bodyValue === url || Date.parse(bodyValue) === Date.parse(url);
    default:
      return bodyValue === url;
  }
}

/** Drops key properties that repeat the URL key; a different value is a 400. */
function withoutKey(set: EntitySet, key: readonly KeyValue[], values: readonly BodyValue[]): BodyValue[] {
  const details = [];
  const out: BodyValue[] = [];
  for (const v of values) {
    const k = key.find((kv) => kv.column === v.column);
    if (!k) {
      out.push(v);
      continue;
    }
    if (!sameKeyValue(v.column, v.value, k.value)) {
      details.push({ code: 'ReadOnlyProperty' as const, message: `Key property ${v.column.name} differs from the key in the URL; a key cannot be changed.`, target: v.column.name });
    }
  }
  if (details.length > 0) {
    throw new ODataError('InvalidBody', `The body changes the key of the ${set.name} entity: ${details.map((d) => d.target).join(', ')}.`, {
      ...(details.length === 1 ? { target: details[0]!.target } : {}),
      details,
    });
  }
  return out;
}

export function planInsert(set: EntitySet, values: readonly BodyValue[]): InsertPlan {
  return { kind: 'insert', set, values };
}

export function planUpdate(set: EntitySet, key: readonly KeyValue[], values: readonly BodyValue[], replace: boolean, ifMatch: Precondition): UpdatePlan {
  const sent = withoutKey(set, key, values);
  const assignments: Assignment[] = sent.map((v) => ({ kind: 'value', column: v.column, value: v.value }));
  if (replace) {
    const given = new Set(sent.map((v) => v.column));
    for (const col of set.columns) {
      // Keys, computed and read-only columns stay; so does the version column (the database maintains it).
      if (given.has(col) || col.isKey || col.readOnly || col === set.versionColumn) continue;
      assignments.push(col.hasDefault ? { kind: 'default', column: col } : { kind: 'value', column: col, value: null });
    }
  }
  return { kind: 'update', set, key, assignments, ifMatch };
}

export function planDelete(set: EntitySet, key: readonly KeyValue[], ifMatch: Precondition): DeletePlan {
  return { kind: 'delete', set, key, ifMatch };
}
