/**
 * Builds the SQL that makes PostgreSQL render an entity as OData JSON text, so that numbers keep every
 * digit (numeric, bigint) and Node only passes text through. One value expression per Edm type, chosen
 * through a closed table; json_build_object takes at most 100 arguments, so wide rows are built in
 * chunks and joined as text.
 */
import format from 'pg-format';
import type { Column, PgKind } from '../catalog/types.js';

/** A SQL string literal of a catalog name (property names are identifiers from the catalog, never request data). */
export function catalogText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const identCache = new Map<string, string>();

/**
 * A catalog name quoted as an SQL identifier (pg-format's %I), memoised: quoting every name of every
 * request with pg-format was most of the SQL compile time of a 50-row page (74 of 80 us). Names come
 * from the catalog only, so the cache is bounded by it (and capped for safety).
 */
export function ident(name: string): string {
  let q = identCache.get(name);
  if (q === undefined) {
    q = format('%I', name);
    if (identCache.size < 50_000) identCache.set(name, q);
  }
  return q;
}

export function colRef(alias: string, col: Column): string {
  return `${ident(alias)}.${ident(col.dbName)}`;
}

/** The SQL value whose to_json rendering is the OData JSON value of the column. */
export function jsonValue(alias: string, col: Column, ieee754: boolean): string {
  const c = colRef(alias, col);
  const byKind = {
    int2: () => c,
    int4: () => c,
    int8: () => (ieee754 ? `${c}::text` : c),
    numeric: () => (ieee754 ? `${c}::text` : c),
    float4: () => `case when ${c} in ('Infinity'::float4, '-Infinity'::float4) then to_json(case when ${c} > 0 then 'INF' else '-INF' end) else to_json(${c}) end`,
    float8: () => `case when ${c} in ('Infinity'::float8, '-Infinity'::float8) then to_json(case when ${c} > 0 then 'INF' else '-INF' end) else to_json(${c}) end`,
    bool: () => c,
    text: () => c,
    json: () => `${c}::text`,
    enum: () => `${c}::text`,
    uuid: () => c,
    date: () => c,
    timestamptz: () => c,
    timestamp: () => `(${c} at time zone 'UTC')`,
    time: () => c,
    bytea: () => base64urlText(c),
    interval: () => durationText(c),
  } satisfies Record<PgKind, () => string>;
  return byKind[col.pg]();
}

/** Bytes as base64url text, the payload form of Edm.Binary. */
export function base64urlText(c: string): string {
  return `translate(encode(${c}, 'base64'), E'+/\\n', '-_')`;
}

/** An interval as an OData Duration: days and time only (months count as 30 days, as extract(epoch) does). */
export function durationText(c: string): string {
  return `case when ${c} < interval '0' then '-' || ((-extract(epoch from ${c})) * interval '1 second')::text else (extract(epoch from ${c}) * interval '1 second')::text end`;
}

const objectCache = new WeakMap<readonly Column[], Map<string, string>>();

/**
 * `json_build_object('a', t.a, ...)::text`, chunked for rows wider than 50 properties. Memoised per
 * column list (the catalog's arrays, or a plan's selection): building it with pg-format on every request
 * was a sixth of the CPU profile of a key lookup.
 */
export function jsonObject(alias: string, cols: readonly Column[], ieee754: boolean): string {
  let byKey = objectCache.get(cols);
  if (!byKey) objectCache.set(cols, (byKey = new Map()));
  const key = `${alias}\u0000${ieee754 ? 1 : 0}`;
  let text = byKey.get(key);
  if (text === undefined) byKey.set(key, (text = buildJsonObject(alias, cols, ieee754)));
  return text;
}

function buildJsonObject(alias: string, cols: readonly Column[], ieee754: boolean): string {
  if (cols.length === 0) return `'{}'`;
  const chunks: string[] = [];
  for (let i = 0; i < cols.length; i += 50) {
    const args = cols.slice(i, i + 50).map((col) => `${catalogText(col.name)}, ${jsonValue(alias, col, ieee754)}`);
    chunks.push(`json_build_object(${args.join(', ')})::text`);
  }
  if (chunks.length === 1) return chunks[0]!;
  // '{"a":1}' + '{"b":2}' -> '{"a":1, "b":2}'
  return chunks.map((ch, i) => (i === 0 ? `left(${ch}, -1)` : i === chunks.length - 1 ? `', ' || substr(${ch}, 2)` : `', ' || substr(left(${ch}, -1), 2)`)).join(' || ');
}

/** The text PostgreSQL gives for a column, cast back with `$n::<castType>` for skip tokens and keys. */
export const CAST_TYPE = {
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  numeric: 'numeric',
  float4: 'float4',
  float8: 'float8',
  bool: 'bool',
  text: 'text',
  json: 'text',
  enum: 'text',
  uuid: 'uuid',
  date: 'date',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  time: 'time',
  bytea: 'bytea',
  interval: 'interval',
} as const satisfies Record<PgKind, string>;

/** A parameter holding a key value for the column. Binary keys arrive as base64. */
export function keyParamSql(n: number, col: Column): string {
  return col.pg === 'bytea' ? `decode($${n}, 'base64')` : `$${n}::${CAST_TYPE[col.pg]}`;
}
