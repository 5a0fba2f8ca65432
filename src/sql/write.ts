/**
 * Pure: WritePlan -> { text, values }. Every write returns, in the same statement, what the read path
 * would render for the row: [entity JSON built by PostgreSQL, ETag hash, key values as text...]. Values
 * are untyped text parameters, so PostgreSQL parses them as the target column's type (no digit lost on
 * the way through JavaScript); only `timestamp without time zone` gets an explicit conversion, because
 * OData's DateTimeOffset carries an offset and the read path renders such columns as UTC. If-Match is
 * compared in the WHERE clause of the write itself, so a concurrent writer cannot slip in between.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import { assertNever } from '../errors/odata-error.js';
import type { KeyValue } from '../plan/read.js';
import type { Preconditions, WritePlan } from '../plan/write.js';
import { colRef, ident, jsonObject, keyParamSql } from './json.js';
import { ALIAS, etagSql, fromClause, tableName, type SqlQuery } from './read.js';

/** The written table with its alias (INSERT wants the AS). */
function target(set: EntitySet): string {
  return `${tableName(set)} as ${ident(ALIAS)}`;
}

function valueParam(n: number, col: Column): string {
  return col.pg === 'timestamp' ? `($${n}::timestamptz at time zone 'UTC')` : `$${n}`;
}

const returningLists = new WeakMap<EntitySet, Map<string, string>>();

/**
 * The columns every write returns: entity JSON (null when the answer will not show it: a DELETE, a 204),
 * ETag, then the key values as text. Remembered per entity set: it names every column.
 */
export function returningList(set: EntitySet, ieee754: boolean, withEntity = true): string {
  let bySet = returningLists.get(set);
  if (bySet === undefined) returningLists.set(set, (bySet = new Map()));
  const k = `${ieee754 ? 'i' : '-'}${withEntity ? 'e' : '-'}`;
  let list = bySet.get(k);
  if (list === undefined) {
    list = [withEntity ? jsonObject(ALIAS, set.columns, ieee754) : 'null', etagSql(set), ...set.key.map((c) => `${colRef(ALIAS, c)}::text`)].join(', ');
    bySet.set(k, list);
  }
  return list;
}

function keyWhere(key: readonly KeyValue[], params: unknown[]): string[] {
  return key.map((kv) => {
    params.push(kv.value);
    return `${colRef(ALIAS, kv.column)} = ${keyParamSql(params.length, kv.column)}`;
  });
}

/**
 * If-Match (and a 4.01 body's @odata.etag): the ETag is one of the tags; If-None-Match: it is none of
 * them, and `*` matches every existing entity, so nothing is written (then 412, or 404 when none exists).
 */
function preconditionWhere(set: EntitySet, c: Preconditions, params: unknown[]): string[] {
  const out: string[] = [];
  for (const tags of [c.ifMatch, c.bodyEtag]) {
    if (tags === undefined || tags === 'any') continue;
    params.push([...tags]);
    out.push(`${etagSql(set)} = any($${params.length}::text[])`);
  }
  if (c.ifNoneMatch === 'any') out.push('false');
  else if (c.ifNoneMatch !== undefined) {
    params.push([...c.ifNoneMatch]);
    out.push(`${etagSql(set)} <> all($${params.length}::text[])`);
  }
  return out;
}

/** `withEntity` false: the first returned column is null (the answer shows no entity). */
export function writeSql(plan: WritePlan, ieee754: boolean, withEntity = true): SqlQuery {
  const params: unknown[] = [];
  const returning = returningList(plan.set, ieee754, withEntity && plan.kind !== 'delete');
  switch (plan.kind) {
    case 'insert': {
      if (plan.values.length === 0) return { text: `insert into ${target(plan.set)} default values returning ${returning}`, values: params };
      const cols = plan.values.map((v) => ident(v.column.dbName));
      const vals = plan.values.map((v) => {
        params.push(v.value);
        return valueParam(params.length, v.column);
      });
      return { text: `insert into ${target(plan.set)} (${cols.join(', ')}) values (${vals.join(', ')}) returning ${returning}`, values: params };
    }
    case 'update': {
      const sets = plan.assignments.map((a) => {
        if (a.kind === 'default') return `${ident(a.column.dbName)} = default`;
        params.push(a.value);
        return `${ident(a.column.dbName)} = ${valueParam(params.length, a.column)}`;
      });
      const where = [...keyWhere(plan.key, params), ...preconditionWhere(plan.set, plan.conditions, params)].join(' and ');
      if (sets.length === 0) {
        // Nothing to change (PATCH {}): lock and return the row as it is, under the same precondition.
        return { text: `select ${returning} from ${fromClause(plan.set)} where ${where} for update`, values: params };
      }
      return { text: `update ${target(plan.set)} set ${sets.join(', ')} where ${where} returning ${returning}`, values: params };
    }
    case 'delete': {
      const where = [...keyWhere(plan.key, params), ...preconditionWhere(plan.set, plan.conditions, params)].join(' and ');
      return { text: `delete from ${target(plan.set)} where ${where} returning ${returning}`, values: params };
    }
    default:
      return assertNever(plan, 'write plan');
  }
}

/** Does an entity with this key exist? (tells 404 from 412 after a write matched no row) */
export function existsSql(set: EntitySet, key: readonly KeyValue[]): SqlQuery {
  const params: unknown[] = [];
  return { text: `select 1 from ${fromClause(set)} where ${keyWhere(key, params).join(' and ')}`, values: params };
}
