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
        const p = ((t - 4) >> 16) & 0xffff;
        // PostgreSQL 15 allows scales from -1000 to 1000, also above the precision (11 bits, sign-extended)
        const s = (((t - 4) & 0x7ff) ^ 1024) - 1024;
        // OData wants 0 <= Scale <= Precision: numeric(5,-2) holds up to 7 integer digits (Precision 7,
        // Scale 0), numeric(3,5) values below 0.01 with 5 decimals (Precision 5, Scale 5)
        if (s < 0) return { ...m, precision: p - s, scale: 0 };
        return { ...m, precision: Math.max(p, s), scale: s };
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
