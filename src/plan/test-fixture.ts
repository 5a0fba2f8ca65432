/**
 * A small hand-made entity set for the unit tests of plan/ and sql/ (and the fuzz test): one column of
 * each Edm type, nullable and NOT NULL variants, a Guid key. Not used at run time.
 */
import type { Column, EdmType, EntitySet, PgKind } from '../catalog/types.js';

function col(name: string, pg: PgKind, edm: EdmType, nullable: boolean, dbName = name.toLowerCase()): Column {
  return { name, dbName, pg, pgType: pg, edm, nullable, hasDefault: false, computed: false, readOnly: false, isKey: name === 'Id' };
}

export const COLUMNS: readonly Column[] = [
  col('Id', 'uuid', 'Edm.Guid', false),
  col('Name', 'text', 'Edm.String', true),
  col('Code', 'text', 'Edm.String', false),
  col('Age', 'int4', 'Edm.Int32', true),
  col('Rank', 'int2', 'Edm.Int16', false),
  col('Big', 'int8', 'Edm.Int64', true),
  col('Price', 'numeric', 'Edm.Decimal', true),
  col('Score', 'float8', 'Edm.Double', true),
  col('IsDeleted', 'bool', 'Edm.Boolean', true),
  col('Active', 'bool', 'Edm.Boolean', false),
  col('Born', 'date', 'Edm.Date', true),
  col('Created', 'timestamptz', 'Edm.DateTimeOffset', true),
  col('Opens', 'time', 'Edm.TimeOfDay', true),
  col('Photo', 'bytea', 'Edm.Binary', true),
  col('Span', 'interval', 'Edm.Duration', true),
  col('Mood', 'enum', 'Edm.String', true),
  col('WeirdName', 'text', 'Edm.String', true, 'Weird"Name'),
];

export function entitySet(searchable: readonly string[] = ['Name', 'Code']): EntitySet {
  const byName = new Map(COLUMNS.map((c) => [c.name, c] as const));
  return {
    name: 'People',
    typeName: 'Person',
    schema: 'public',
    table: 'people',
    relkind: 'table',
    columns: COLUMNS,
    columnsByName: byName,
    key: [byName.get('Id')!],
    readOnly: false,
    searchable: searchable.map((s) => byName.get(s)!),
    requireIfMatch: false,
  };
}
