/**
 * Maps a PostgreSQL column type to its Edm type and facets. Types not listed here are not mapped: the
 * column is left out of the service with a warning (as Heroku External Objects does).
 */
import type { EdmType, PgKind, RawColumn } from './types.js';

interface Mapping {
  readonly pg: PgKind;
  readonly edm: EdmType;
}

const BY_TYPE_NAME: Readonly<Record<string, Mapping>> = {
  int2: { pg: 'int2', edm: 'Edm.Int16' },
  int4: { pg: 'int4', edm: 'Edm.Int32' },
  int8: { pg: 'int8', edm: 'Edm.Int64' },
  numeric: { pg: 'numeric', edm: 'Edm.Decimal' },
  float4: { pg: 'float4', edm: 'Edm.Single' },
  float8: { pg: 'float8', edm: 'Edm.Double' },
  bool: { pg: 'bool', edm: 'Edm.Boolean' },
  text: { pg: 'text', edm: 'Edm.String' },
  varchar: { pg: 'text', edm: 'Edm.String' },
  bpchar: { pg: 'text', edm: 'Edm.String' },
  citext: { pg: 'text', edm: 'Edm.String' },
  json: { pg: 'json', edm: 'Edm.String' },
  jsonb: { pg: 'json', edm: 'Edm.String' },
  uuid: { pg: 'uuid', edm: 'Edm.Guid' },
  date: { pg: 'date', edm: 'Edm.Date' },
  timestamptz: { pg: 'timestamptz', edm: 'Edm.DateTimeOffset' },
  timestamp: { pg: 'timestamp', edm: 'Edm.DateTimeOffset' },
  time: { pg: 'time', edm: 'Edm.TimeOfDay' },
  bytea: { pg: 'bytea', edm: 'Edm.Binary' },
  interval: { pg: 'interval', edm: 'Edm.Duration' },
};

export interface MappedType {
  readonly pg: PgKind;
  readonly edm: EdmType;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number | 'variable';
}

/** Returns the Edm mapping of a column, or undefined when its type is not supported. */
export function mapColumnType(col: Pick<RawColumn, 'typeName' | 'typeCategory' | 'typeType' | 'typmod'>): MappedType | undefined {
  if (col.typeCategory === 'A') return undefined; // arrays are not mapped
  if (col.typeType === 'e') return { pg: 'enum', edm: 'Edm.String' };
  const m = BY_TYPE_NAME[col.typeName];
  if (!m) return undefined;
  const t = col.typmod;
  switch (col.typeName) {
    case 'varchar':
    case 'bpchar':
      return t >= 4 ? { ...m, maxLength: t - 4 } : m;
    case 'numeric':
      if (t >= 4) {
        const precision = ((t - 4) >> 16) & 0xffff;
        const scale = (t - 4) & 0xffff;
        // PostgreSQL 15 allows negative scales (stored in 11 bits, sign-extended); OData does not: treat as 0.
        return { ...m, precision, scale: scale > 1000 ? 0 : scale };
      }
      return { ...m, scale: 'variable' };
    case 'timestamptz':
    case 'timestamp':
    case 'time':
      return { ...m, precision: t >= 0 ? t : 6 };
    case 'interval':
      return { ...m, precision: t >= 0 && (t & 0xffff) !== 0xffff ? t & 0xffff : 6 };
    default:
      return m;
  }
}
