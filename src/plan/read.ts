/**
 * Pure: resolves a parsed read request against the catalog into a ReadPlan whose every reference is a
 * catalog Column: the entity set, the selected properties, the key filter, filter/search/order, paging.
 * Nothing here touches the database; sql/read.ts turns the plan into SQL text and parameters.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import { ODataError } from '../errors/odata-error.js';
import type { KeyPredicate } from '../odata/path.js';
import type { Literal } from '../odata/literal.js';
import { durationToInterval } from '../validate/edm-formats.js';
import type { TypedExpr, TypedOrderItem, TypedSearch } from './typed-expr.js';

export type MetadataLevel = 'minimal' | 'full' | 'none';

export interface FormatOptions {
  readonly metadata: MetadataLevel;
  readonly ieee754: boolean;
}

export interface KeyValue {
  readonly column: Column;
  readonly value: string | boolean;
}

/** One term of the ORDER BY: a client-given item, or a key column appended to make the order total. */
export type OrderTerm =
  | { readonly kind: 'item'; readonly item: TypedOrderItem }
  | { readonly kind: 'key'; readonly column: Column };

export interface PageToken {
  /** last row's order values as text (null for SQL null) */
  readonly after: readonly (string | null)[];
  /** rows still to deliver when the client gave $top */
  readonly remaining?: number;
}

export interface CollectionPlan {
  readonly kind: 'collection';
  readonly set: EntitySet;
  readonly select: readonly Column[];
  readonly selectExplicit: boolean;
  readonly filter?: TypedExpr;
  readonly search?: TypedSearch;
  readonly order: readonly OrderTerm[];
  readonly skip: number;
  /** rows this request may return in all (client $top, or remaining from the token), undefined = all */
  readonly limit?: number;
  readonly pageSize: number;
  readonly count: boolean;
  readonly after?: readonly (string | null)[];
  readonly etag: boolean;
}

export interface CountPlan {
  readonly kind: 'count';
  readonly set: EntitySet;
  readonly filter?: TypedExpr;
  readonly search?: TypedSearch;
}

export interface EntityPlan {
  readonly kind: 'entity';
  readonly set: EntitySet;
  readonly key: readonly KeyValue[];
  readonly select: readonly Column[];
  readonly selectExplicit: boolean;
  readonly etag: boolean;
}

export interface PropertyPlan {
  readonly kind: 'property';
  readonly set: EntitySet;
  readonly key: readonly KeyValue[];
  readonly property: Column;
  readonly rawValue: boolean;
}

export type ReadPlan = CollectionPlan | CountPlan | EntityPlan | PropertyPlan;

const KEY_LITERALS: Readonly<Record<Column['edm'], readonly Literal['kind'][]>> = {
  'Edm.Int16': ['int'],
  'Edm.Int32': ['int'],
  'Edm.Int64': ['int'],
  'Edm.Decimal': ['int', 'decimal'],
  'Edm.Single': ['int', 'decimal', 'double'],
  'Edm.Double': ['int', 'decimal', 'double'],
  'Edm.Boolean': ['boolean'],
  'Edm.String': ['string'],
  'Edm.Guid': ['guid'],
  'Edm.Date': ['date'],
  'Edm.DateTimeOffset': ['dateTimeOffset'],
  'Edm.TimeOfDay': ['timeOfDay'],
  'Edm.Binary': ['binary'],
  'Edm.Duration': ['duration'],
};

const INT_RANGE: Partial<Record<Column['edm'], readonly [bigint, bigint]>> = {
  'Edm.Int16': [-32768n, 32767n],
  'Edm.Int32': [-2147483648n, 2147483647n],
  'Edm.Int64': [-9223372036854775808n, 9223372036854775807n],
};

/** Text form of a key literal as a SQL parameter value for the column. */
export function keyParam(col: Column, lit: Literal, setName: string): string | boolean {
  if (!KEY_LITERALS[col.edm].includes(lit.kind)) {
    throw new ODataError('InvalidKey', `The key value for ${col.name} must be of type ${col.edm}.`, { target: col.name });
  }
  switch (lit.kind) {
    case 'int': {
      const range = INT_RANGE[col.edm];
      if (range) {
        const v = BigInt(lit.text);
        // Out of the column's range: no entity can have this key.
        if (v < range[0] || v > range[1]) throw new ODataError('EntityNotFound', `No entity of ${setName} has this key.`);
      }
      return lit.text;
    }
    case 'decimal':
    case 'double':
    case 'guid':
    case 'date':
    case 'dateTimeOffset':
    case 'timeOfDay':
      return lit.text;
    case 'duration':
      return durationToInterval(lit.text);
    case 'string':
      return lit.value;
    case 'boolean':
      return lit.value;
    case 'binary':
      return lit.base64;
    case 'null':
      throw new ODataError('InvalidKey', `The key value for ${col.name} may not be null.`, { target: col.name });
  }
}

/** Resolves a key predicate: `Set(5)` for a single key, `Set(a=1,b='x')` for single or composite keys. */
export function planKey(set: EntitySet, pred: KeyPredicate): KeyValue[] {
  if (pred.kind === 'single') {
    if (set.key.length !== 1) {
      throw new ODataError('InvalidKey', `${set.name} has a composite key; name each key property: ${set.name}(${set.key.map((k) => `${k.name}=...`).join(',')}).`, { target: set.name });
    }
    const col = set.key[0]!;
    return [{ column: col, value: keyParam(col, pred.value, set.name) }];
  }
  if (pred.pairs.length !== set.key.length) {
    throw new ODataError('InvalidKey', `The key of ${set.name} consists of ${set.key.map((k) => k.name).join(', ')}.`, { target: set.name });
  }
  return set.key.map((col) => {
    const pair = pred.pairs.find((p) => p.name === col.name);
    if (!pair) throw new ODataError('InvalidKey', `The key of ${set.name} consists of ${set.key.map((k) => k.name).join(', ')}.`, { target: set.name });
    return { column: col, value: keyParam(col, pair.value, set.name) };
  });
}
