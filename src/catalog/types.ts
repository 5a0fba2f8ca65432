/**
 * The catalog: an immutable snapshot of what the service exposes, built from pg_catalog and the config.
 * Raw* types are what introspection read (database facts); Column/EntitySet/Catalog are the resolved,
 * exposed model that plan, sql and format work from. Only names found here ever reach SQL.
 */

export type EdmType =
  | 'Edm.Int16' | 'Edm.Int32' | 'Edm.Int64' | 'Edm.Decimal' | 'Edm.Single' | 'Edm.Double'
  | 'Edm.Boolean' | 'Edm.String' | 'Edm.Guid' | 'Edm.Date' | 'Edm.DateTimeOffset' | 'Edm.TimeOfDay'
  | 'Edm.Binary' | 'Edm.Duration';

/** How a PostgreSQL value is stored, which decides SQL casts and JSON rendering. */
export type PgKind =
  | 'int2' | 'int4' | 'int8' | 'numeric' | 'float4' | 'float8' | 'bool' | 'text' | 'json' | 'enum'
  | 'uuid' | 'date' | 'timestamptz' | 'timestamp' | 'time' | 'bytea' | 'interval';

export interface RawColumn {
  readonly name: string;
  readonly attnum: number;
  readonly typeName: string; // base type name (domains resolved), e.g. int4, varchar, numeric
  readonly typeCategory: string; // pg_type.typcategory of the base type ('A' for arrays)
  readonly typeType: string; // pg_type.typtype of the base type ('e' enum, 'b' base, ...)
  readonly formatted: string; // format_type(), e.g. "character varying(80)"
  readonly typmod: number;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly identity: '' | 'a' | 'd';
  readonly generated: '' | 's';
  readonly comment: string | null;
  readonly updatable: boolean; // for view columns: is the column updatable (information_schema)
}

export interface RawRelation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view' | 'matview' | 'partitioned';
  readonly comment: string | null;
  readonly columns: readonly RawColumn[];
  readonly primaryKey: readonly string[] | null;
  readonly uniqueKeys: readonly (readonly string[])[];
  readonly foreignKeys: readonly RawForeignKey[];
  /** a BEFORE UPDATE row trigger exists (one that could maintain a version column); absent: false */
  readonly beforeUpdateTrigger?: boolean;
}

export interface RawForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly refSchema: string;
  readonly refTable: string;
  readonly refColumns: readonly string[];
}

export interface RawCatalog {
  readonly relations: readonly RawRelation[];
  readonly serverVersion: string;
}

export interface Column {
  /** OData property name. */
  readonly name: string;
  /** PostgreSQL column name (passed through pg-format %I). */
  readonly dbName: string;
  readonly pg: PgKind;
  readonly pgType: string;
  readonly edm: EdmType;
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number | 'variable';
  readonly hasDefault: boolean;
  /** Identity or generated columns: the database computes them. */
  readonly computed: boolean;
  /** May not be written by clients (computed, config-listed read-only, or the object is read-only). */
  readonly readOnly: boolean;
  readonly isKey: boolean;
  readonly comment?: string;
}

export interface EntitySet {
  readonly name: string;
  readonly typeName: string;
  readonly schema: string;
  readonly table: string;
  readonly relkind: RawRelation['kind'];
  readonly columns: readonly Column[];
  readonly columnsByName: ReadonlyMap<string, Column>;
  readonly key: readonly Column[];
  readonly readOnly: boolean;
  readonly searchable: readonly Column[];
  readonly versionColumn?: Column;
  readonly requireIfMatch: boolean;
  readonly comment?: string;
  /**
   * Every column of the relation is exposed, in order, under its own name, with a type whose to_json
   * rendering is already OData's: PostgreSQL may then render an entity as row_to_json of the whole row,
   * which is cheaper than json_build_object.
   */
  readonly wholeRow?: boolean;
}

export interface Catalog {
  readonly namespace: string;
  readonly containerName: string;
  readonly entitySets: readonly EntitySet[];
  readonly byName: ReadonlyMap<string, EntitySet>;
  /** Things left out, for the log: one line each. */
  readonly warnings: readonly string[];
  readonly loadedAt: Date;
}
