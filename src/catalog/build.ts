/**
 * Pure: raw pg_catalog facts + config -> the exposed Catalog. Decides entity set and property names,
 * keys, read-only-ness, searchable columns and the version column, and leaves out (with a warning) what
 * cannot be exposed. A problem with something the config names explicitly is a CatalogError, which stops
 * the start with a message naming the config field.
 */
import type { Config, ExposeEntry } from '../config/types.js';
import { mapColumnType } from './edm-types.js';
import type { Catalog, Column, EntitySet, RawColumn, RawRelation } from './types.js';

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}$/u;

/** Turns a database name into a valid CSDL SimpleIdentifier (or '' if nothing usable remains). */
export function toIdentifier(name: string): string {
  let s = name.replace(/[^\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]/gu, '_');
  if (!/^[\p{L}\p{Nl}_]/u.test(s)) s = `_${s}`;
  return s.slice(0, 128);
}

export function isIdentifier(s: string): boolean {
  return IDENTIFIER.test(s);
}

/** Types whose to_json text is their OData JSON value (see sql/json.ts for the others). */
const WHOLE_ROW_KINDS: ReadonlySet<Column['pg']> = new Set(['int2', 'int4', 'int8', 'numeric', 'bool', 'text', 'uuid', 'date', 'timestamptz', 'time']);

interface Candidate {
  readonly rel: RawRelation;
  readonly entry: ExposeEntry;
  readonly explicit: boolean;
}

export function buildCatalog(raw: { relations: readonly RawRelation[] }, config: Pick<Config, 'expose' | 'naming' | 'namespace' | 'file'>): Catalog {
  const warnings: string[] = [];
  const fail = (entry: ExposeEntry, msg: string): never => {
    throw new CatalogError(`${config.file}: ${entry.pointer}: ${msg}`);
  };

  // 1. Resolve the expose list to relations (explicit entries win over schema.* expansions).
  const chosen = new Map<string, Candidate>();
  for (const entry of config.expose) {
    if (entry.table === '*') {
      const rels = raw.relations.filter((r) => r.schema === entry.schema);
      if (rels.length === 0) fail(entry, `schema "${entry.schema}" has no tables or views (or does not exist)`);
      for (const rel of rels) {
        const k = `${rel.schema}.${rel.name}`;
        if (!chosen.has(k)) chosen.set(k, { rel, entry, explicit: false });
      }
    } else {
      const rel = raw.relations.find((r) => r.schema === entry.schema && r.name === entry.table);
      if (!rel) fail(entry, `table or view "${entry.schema}.${entry.table}" does not exist`);
      chosen.set(`${entry.schema}.${entry.table}`, { rel: rel!, entry, explicit: true });
    }
  }

  // 2. Count table names so that plain naming can disambiguate equal names from different schemas.
  const nameCount = new Map<string, number>();
  for (const c of chosen.values()) nameCount.set(c.rel.name, (nameCount.get(c.rel.name) ?? 0) + 1);

  const sets: EntitySet[] = [];
  const byName = new Map<string, EntitySet>();
  const typeNames = new Set<string>();
  for (const cand of chosen.values()) {
    const set = buildSet(cand, config, nameCount, warnings, fail);
    if (!set) continue;
    if (byName.has(set.name)) {
      if (cand.explicit) fail(cand.entry, `entity set name "${set.name}" is used twice; set "entitySet" to tell them apart`);
      warnings.push(`${cand.rel.schema}.${cand.rel.name}: left out, entity set name "${set.name}" is already used`);
      continue;
    }
    let typeName = set.typeName;
    for (let i = 2; typeNames.has(typeName); i++) typeName = `${set.typeName}_${i}`;
    typeNames.add(typeName);
    const final = typeName === set.typeName ? set : { ...set, typeName };
    sets.push(final);
    byName.set(final.name, final);
  }
  sets.sort((a, b) => a.name.localeCompare(b.name));
  return Object.freeze({
    namespace: config.namespace,
    containerName: 'Container',
    entitySets: Object.freeze(sets),
    byName,
    warnings: Object.freeze(warnings),
    loadedAt: new Date(),
  });
}

function buildSet(
  cand: Candidate,
  config: Pick<Config, 'naming' | 'file'>,
  nameCount: ReadonlyMap<string, number>,
  warnings: string[],
  fail: (e: ExposeEntry, m: string) => never,
): EntitySet | undefined {
  const { rel, entry, explicit } = cand;
  const qualified = `${rel.schema}.${rel.name}`;
  const skip = (why: string): undefined => {
    if (explicit) fail(entry, `${qualified}: ${why}`);
    warnings.push(`${qualified}: left out, ${why}`);
    return undefined;
  };

  let setName: string;
  if (entry.entitySet) setName = entry.entitySet;
  else if (config.naming === 'heroku') setName = `${rel.schema}$${rel.name}`;
  else setName = toIdentifier((nameCount.get(rel.name) ?? 0) > 1 ? `${rel.schema}_${rel.name}` : rel.name);
  if (config.naming !== 'heroku' && !isIdentifier(setName)) fail(entry, `entitySet "${setName}" is not a valid OData identifier`);
  const typeName = toIdentifier(config.naming === 'heroku' ? `${rel.schema}_${rel.name}` : setName);

  const isView = rel.kind === 'view' || rel.kind === 'matview';
  const readOnly = entry.readOnly || isView;

  // Columns: the allow-list first (each listed column must exist), then the type mapping.
  let rawCols: readonly RawColumn[] = rel.columns;
  if (entry.columns) {
    for (const name of entry.columns) {
      if (!rel.columns.some((c) => c.name === name)) fail(entry, `column "${name}" does not exist in ${qualified}`);
    }
    rawCols = rel.columns.filter((c) => entry.columns!.includes(c.name));
  }
  for (const name of [...entry.readOnlyColumns, ...(entry.searchable ?? []), ...(entry.versionColumn ? [entry.versionColumn] : [])]) {
    if (!rawCols.some((c) => c.name === name)) fail(entry, `column "${name}" is not an exposed column of ${qualified}`);
  }

  const keyNames: readonly string[] | null = entry.key ?? rel.primaryKey ?? (isView ? ['id'] : null);
  if (!keyNames) return skip('it has no primary key (name one with "key")');
  for (const k of keyNames) {
    if (!rawCols.some((c) => c.name === k)) return skip(`key column "${k}" is not an exposed column`);
  }

  const columns: Column[] = [];
  const propNames = new Set<string>();
  // A column whose name is already an OData identifier keeps it; a renamed one ("a b" -> a_b) never
  // takes a real column's name, but gets a numbered one instead.
  const ownNames = new Set(rawCols.filter((rc) => toIdentifier(rc.name) === rc.name && mapColumnType(rc)).map((rc) => rc.name));
  for (const rc of rawCols) {
    const mapped = mapColumnType(rc);
    const isKey = keyNames.includes(rc.name);
    if (!mapped) {
      if (isKey) return skip(`key column "${rc.name}" has type ${rc.formatted}, which is not supported`);
      warnings.push(`${qualified}.${rc.name}: left out, type ${rc.formatted} is not supported`);
      continue;
    }
    let name = toIdentifier(rc.name);
    if (name !== rc.name && (ownNames.has(name) || propNames.has(name))) {
      const base = name;
      for (let i = 2; ownNames.has(name) || propNames.has(name); i++) name = `${base.slice(0, 120)}_${i}`;
      warnings.push(`${qualified}.${rc.name}: property name "${name}" ("${base}" is another column's)`);
    }
    propNames.add(name);
    const computed = rc.identity === 'a' || rc.generated === 's';
    const col: Column = {
      name,
      dbName: rc.name,
      pg: mapped.pg,
      pgType: rc.formatted,
      edm: mapped.edm,
      // Keys are never null; view columns report nullable, but a key of a view must not be null.
      nullable: !(rc.notNull || isKey),
      ...(mapped.maxLength !== undefined ? { maxLength: mapped.maxLength } : {}),
      ...(mapped.precision !== undefined ? { precision: mapped.precision } : {}),
      ...(mapped.scale !== undefined ? { scale: mapped.scale } : {}),
      hasDefault: rc.hasDefault || rc.identity !== '',
      computed,
      readOnly: readOnly || computed || entry.readOnlyColumns.includes(rc.name) || !rc.updatable,
      isKey,
      ...(rc.comment ? { comment: rc.comment } : {}),
    };
    columns.push(Object.freeze(col));
  }
  const columnsByName = new Map(columns.map((c) => [c.name, c]));
  const wholeRow =
    columns.length === rel.columns.length &&
    columns.every((c, i) => c.dbName === rel.columns[i]!.name && c.name === c.dbName && WHOLE_ROW_KINDS.has(c.pg));
  const byDb = new Map(columns.map((c) => [c.dbName, c]));
  const key = keyNames.map((k) => byDb.get(k)!);
  const searchable = entry.searchable
    ? entry.searchable.map((n) => byDb.get(n)).filter((c): c is Column => c !== undefined && c.edm === 'Edm.String')
    : columns.filter((c) => c.edm === 'Edm.String' && (c.pg === 'text' || c.pg === 'enum'));
  let versionColumn = entry.versionColumn ? byDb.get(entry.versionColumn) : undefined;
  // A version column must change whenever the row does, or a stale If-Match would succeed: without a
  // BEFORE UPDATE trigger (or a generated value) nothing changes it on our writes, so the ETag falls back
  // to the row version PostgreSQL keeps.
  const maintained = rel.beforeUpdateTrigger === true || rawCols.some((c) => c.name === entry.versionColumn && c.generated === 's');
  if (versionColumn && !readOnly && !maintained) {
    warnings.push(`${qualified}.${versionColumn.dbName}: versionColumn ignored, no BEFORE UPDATE trigger changes it when a row is written; ETags use the row version (xmin)`);
    versionColumn = undefined;
  }

  return Object.freeze({
    name: setName,
    typeName,
    schema: rel.schema,
    table: rel.name,
    relkind: rel.kind,
    columns: Object.freeze(columns),
    columnsByName,
    key: Object.freeze(key),
    readOnly,
    searchable: Object.freeze(searchable),
    ...(versionColumn ? { versionColumn } : {}),
    requireIfMatch: entry.requireIfMatch,
    ...(rel.comment ? { comment: rel.comment } : {}),
    wholeRow,
  });
}
