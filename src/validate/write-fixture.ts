/**
 * A hand-made entity set for the unit tests of the write path (validate/, plan/write, sql/write): a
 * serial key, facets (MaxLength, Precision/Scale), a computed column, a config read-only column and a
 * version column. Not used at run time.
 */
import type { Column, EdmType, EntitySet, PgKind } from '../catalog/types.js';

function col(name: string, pg: PgKind, edm: EdmType, extra: Partial<Column> = {}): Column {
  return { name, dbName: name, pg, pgType: pg, edm, nullable: true, hasDefault: false, computed: false, readOnly: false, isKey: false, ...extra };
}

export function writeSet(): EntitySet {
  const columns: Column[] = [
    col('id', 'int4', 'Edm.Int32', { isKey: true, nullable: false, hasDefault: true }),
    col('name', 'text', 'Edm.String', { nullable: false, maxLength: 5 }),
    col('qty', 'int4', 'Edm.Int32', { nullable: false, hasDefault: true }),
    col('price', 'numeric', 'Edm.Decimal', { precision: 18, scale: 2 }),
    col('big', 'int8', 'Edm.Int64'),
    col('ratio', 'float8', 'Edm.Double'),
    col('made', 'timestamp', 'Edm.DateTimeOffset', { precision: 6 }),
    col('photo', 'bytea', 'Edm.Binary'),
    col('span', 'interval', 'Edm.Duration'),
    col('total', 'numeric', 'Edm.Decimal', { scale: 'variable', computed: true, readOnly: true, hasDefault: true }),
    col('note', 'text', 'Edm.String', { readOnly: true }),
    col('version', 'int4', 'Edm.Int32', { nullable: false, hasDefault: true }),
  ];
  const byName = new Map(columns.map((c) => [c.name, c] as const));
  return {
    name: 'item',
    typeName: 'item',
    schema: 'public',
    table: 'item',
    relkind: 'table',
    columns,
    columnsByName: byName,
    key: [byName.get('id')!],
    readOnly: false,
    searchable: [],
    versionColumn: byName.get('version')!,
    requireIfMatch: false,
  };
}
