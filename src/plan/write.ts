/**
 * Pure: validated body values + key + preconditions -> a WritePlan (insert, update, delete) whose every
 * reference is a catalog Column. PATCH assigns only what was sent; PUT also resets every other writable
 * column to its default (or null); key, computed and read-only properties never reach a plan (the body's
 * validation drops them, Protocol 11.4.3); If-Match becomes a list of ETag hashes to compare in the same
 * statement as the write.
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

/**
 * The conditions of an update or delete (Protocol 8.2.4, 8.2.5, 11.4.1.1): If-Match, If-None-Match, and
 * (OData 4.01 requests) an `@odata.etag` in the body, which the entity's current ETag must also match.
 */
export interface Preconditions {
  readonly ifMatch?: Precondition;
  readonly ifNoneMatch?: Precondition;
  readonly bodyEtag?: readonly string[];
}

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
  readonly conditions: Preconditions;
}

export interface DeletePlan {
  readonly kind: 'delete';
  readonly set: EntitySet;
  readonly key: readonly KeyValue[];
  readonly conditions: Preconditions;
}

export type WritePlan = InsertPlan | UpdatePlan | DeletePlan;

/**
 * Parses If-Match or If-None-Match: `*`, or a comma-separated list of entity tags, weak (`W/"x"`) or
 * strong (`"x"`). Returns the hashes (the part between the quotes).
 */
export function parseIfMatch(header: string | undefined, name = 'If-Match'): Precondition {
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
    throw new ODataError('BadRequest', `${name} must be * or a list of entity tags such as W/"abc".`);
  }
  return tags;
}

export function planInsert(set: EntitySet, values: readonly BodyValue[]): InsertPlan {
  return { kind: 'insert', set, values };
}

/** Could these conditions be why a write matched no row of an entity that exists (412, not 404)? */
export function conditional(c: Preconditions): boolean {
  return (c.ifMatch !== undefined && c.ifMatch !== 'any') || c.ifNoneMatch !== undefined || c.bodyEtag !== undefined;
}

export function planUpdate(set: EntitySet, key: readonly KeyValue[], values: readonly BodyValue[], replace: boolean, conditions: Preconditions): UpdatePlan {
  const assignments: Assignment[] = values.map((v) => ({ kind: 'value', column: v.column, value: v.value }));
  if (replace) {
    const given = new Set(values.map((v) => v.column));
    for (const col of set.columns) {
      // Keys, computed and read-only columns stay; so does the version column (the database maintains it).
      if (given.has(col) || col.isKey || col.readOnly || col === set.versionColumn) continue;
      assignments.push(col.hasDefault ? { kind: 'default', column: col } : { kind: 'value', column: col, value: null });
    }
  }
  return { kind: 'update', set, key, assignments, conditions };
}

export function planDelete(set: EntitySet, key: readonly KeyValue[], conditions: Preconditions): DeletePlan {
  return { kind: 'delete', set, key, conditions };
}
