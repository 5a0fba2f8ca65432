/**
 * Reads pg_catalog for the schemas the config names, in one read-only transaction, and returns the raw
 * facts (relations, columns, keys, foreign keys, comments). No interpretation happens here: build.ts
 * turns these facts and the config into the exposed Catalog.
 */
import type { Queryable } from '../db/pool.js';
import type { RawCatalog, RawColumn, RawForeignKey, RawRelation } from './types.js';

const RELATIONS_SQL = `
select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.oid::int8::text as oid,
       obj_description(c.oid, 'pg_class') as comment,
       exists (select 1 from pg_trigger g where g.tgrelid = c.oid and not g.tgisinternal and g.tgenabled <> 'D'
                  and (g.tgtype::int & 19) = 19) as before_update_trigger
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = any($1::text[]) and c.relkind in ('r','v','m','p') and not c.relispartition
 order by n.nspname, c.relname`;

const COLUMNS_SQL = `
select a.attrelid::int8::text as oid, a.attname as name, a.attnum as attnum,
       coalesce(bt.typname, t.typname) as type_name,
       coalesce(bt.typcategory, t.typcategory)::text as type_category,
       coalesce(bt.typtype, t.typtype)::text as type_type,
       format_type(a.atttypid, a.atttypmod) as formatted,
       case when t.typtype = 'd' then t.typtypmod else a.atttypmod end as typmod,
       (a.attnotnull or (t.typtype = 'd' and t.typnotnull)) as not_null,
       (a.atthasdef or (t.typtype = 'd' and t.typdefault is not null)) as has_default,
       a.attidentity::text as identity, a.attgenerated::text as generated,
       col_description(a.attrelid, a.attnum) as comment,
       case when c.relkind in ('v') then coalesce(cu.is_updatable = 'YES', false) else true end as updatable
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_type t on t.oid = a.atttypid
  left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
  left join information_schema.columns cu
         on c.relkind = 'v' and cu.table_schema = n.nspname and cu.table_name = c.relname and cu.column_name = a.attname
 where a.attrelid = any($1::int8[]::oid[]) and a.attnum > 0 and not a.attisdropped
 order by a.attrelid, a.attnum`;

const CONSTRAINTS_SQL = `
select con.conrelid::int8::text as oid, con.conname as name, con.contype::text as type,
       array(select a.attname from unnest(con.conkey) with ordinality k(n, i)
              join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i)::text[] as columns,
       rn.nspname as ref_schema, rc.relname as ref_table,
       array(select a.attname from unnest(con.confkey) with ordinality k(n, i)
              join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i)::text[] as ref_columns
  from pg_constraint con
  left join pg_class rc on rc.oid = con.confrelid
  left join pg_namespace rn on rn.oid = rc.relnamespace
 where con.conrelid = any($1::int8[]::oid[]) and con.contype in ('p','u','f')
 order by con.conrelid, con.conname`;

const UNIQUE_INDEX_SQL = `
select i.indrelid::int8::text as oid,
       array(select a.attname from unnest(i.indkey::int2[]) with ordinality k(n, o)
              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o)::text[] as columns
  from pg_index i
 where i.indrelid = any($1::int8[]::oid[]) and i.indisunique and i.indpred is null and i.indexprs is null`;

const KIND: Record<string, RawRelation['kind']> = { r: 'table', v: 'view', m: 'matview', p: 'partitioned' };

interface ColumnRow {
  oid: string; name: string; attnum: number; type_name: string; type_category: string; type_type: string;
  formatted: string; typmod: number; not_null: boolean; has_default: boolean; identity: string; generated: string;
  comment: string | null; updatable: boolean;
}
interface ConstraintRow {
  oid: string; name: string; type: string; columns: string[]; ref_schema: string | null; ref_table: string | null; ref_columns: string[];
}

/** Introspects the given schemas. Run inside a read-only transaction (see db/pool.ts). */
export async function introspect(db: Queryable, schemas: readonly string[]): Promise<RawCatalog> {
  const version = (await db.query<{ v: string }>('select current_setting(\'server_version\') as v')).rows[0]!.v;
  const rels = (await db.query<{ schema: string; name: string; kind: string; oid: string; comment: string | null; before_update_trigger: boolean }>(RELATIONS_SQL, [schemas])).rows;
  const oids = rels.map((r) => r.oid);
  const [cols, cons, uidx] = [
    (await db.query<ColumnRow>(COLUMNS_SQL, [oids])).rows,
    (await db.query<ConstraintRow>(CONSTRAINTS_SQL, [oids])).rows,
    (await db.query<{ oid: string; columns: string[] }>(UNIQUE_INDEX_SQL, [oids])).rows,
  ];
  const relations: RawRelation[] = rels.map((r) => {
    const columns: RawColumn[] = cols
      .filter((c) => c.oid === r.oid)
      .map((c) => ({
        name: c.name,
        attnum: c.attnum,
        typeName: c.type_name,
        typeCategory: c.type_category,
        typeType: c.type_type,
        formatted: c.formatted,
        typmod: c.typmod,
        notNull: c.not_null,
        hasDefault: c.has_default,
        identity: (c.identity || '') as RawColumn['identity'],
        generated: (c.generated || '') as RawColumn['generated'],
        comment: c.comment,
        updatable: c.updatable,
      }));
    const mine = cons.filter((c) => c.oid === r.oid);
    const pk = mine.find((c) => c.type === 'p');
    const uniqueKeys = [
      ...mine.filter((c) => c.type === 'u').map((c) => c.columns),
      ...uidx.filter((u) => u.oid === r.oid).map((u) => u.columns),
    ];
    const foreignKeys: RawForeignKey[] = mine
      .filter((c) => c.type === 'f')
      .map((c) => ({ name: c.name, columns: c.columns, refSchema: c.ref_schema ?? '', refTable: c.ref_table ?? '', refColumns: c.ref_columns }));
    return {
      schema: r.schema,
      name: r.name,
      kind: KIND[r.kind] ?? 'table',
      comment: r.comment,
      columns,
      primaryKey: pk ? pk.columns : null,
      uniqueKeys,
      foreignKeys,
      beforeUpdateTrigger: r.before_update_trigger,
    };
  });
  return { relations, serverVersion: version };
}
