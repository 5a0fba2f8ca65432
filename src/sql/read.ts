/**
 * Pure: ReadPlan -> { text, values }. Collections select, per row, the entity as JSON text built by
 * PostgreSQL plus the key and order values as text (for ids, ETags and the keyset skip token); the
 * optional count rides in the same statement. Keyset conditions resume strictly after the last row in
 * OData's order (nulls first ascending, last descending) and stay index-friendly for NOT NULL columns.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import { assertNever } from '../errors/odata-error.js';
import type { CollectionPlan, CountPlan, EntityPlan, KeyValue, OrderTerm, PropertyPlan } from '../plan/read.js';
import { selectOmitsKey } from '../plan/collection.js';
import { compileFilter, compileSearch, compileOrderValue } from './expr.js';
import { CAST_TYPE, colRef, ident, jsonObject, jsonValue, keyParamSql } from './json.js';
import { Memo } from './memo.js';

export interface SqlQuery {
  readonly text: string;
  readonly values: unknown[];
}

export const ALIAS = 't';

/** Joins the entities of an aggregated page: a control character, which JSON text never holds raw. */
export const AGG_SEPARATOR = '\x1e';

/** The set's table or view, schema-qualified. */
export function tableName(set: EntitySet): string {
  return `${ident(set.schema)}.${ident(set.table)}`;
}

export function fromClause(set: EntitySet): string {
  return `${tableName(set)} ${ident(ALIAS)}`;
}

/**
 * ETag source: the version column when the config names one (md5 of its text), else the row version
 * PostgreSQL itself keeps (`xmin`, the id of the transaction that wrote this version of the row: it
 * changes whenever the row is written, and reading it costs nothing). The same expression is used in the
 * RETURNING and WHERE of writes, so If-Match is checked in the write's own statement. A content hash was
 * measured first: it cost 15% of the database time of a filtered page and 13% of Node's CPU on
 * 2,000-row pages (decisions.md).
 */
export function etagSql(set: EntitySet, alias = ALIAS): string {
  // a null version (no trigger filled it yet) is the fixed tag "null": an ETag is never null (JSON 4.5.10)
  if (set.versionColumn) return `coalesce(md5(${colRef(alias, set.versionColumn)}::text), 'null')`;
  return `${alias}.xmin::text`;
}

/** Inner page queries select `t.*` plus the row version under this name (`*` leaves system columns out). */
const XMIN = '"$xmin"';

/**
 * The ETag expression over an inner page query's rows. With OFFSET the inner query selects plain `*`:
 * adding `xmin` makes PostgreSQL project every skipped row (measured: OFFSET 500,000 went 51 -> 68 ms),
 * so the version of the few rows kept is looked up by key instead.
 */
function pageEtagSql(set: EntitySet, offsetting: boolean): string {
  if (set.versionColumn) return etagSql(set);
  if (!offsetting) return `${ALIAS}.${XMIN}::text`;
  const byKey = set.key.map((k) => `${colRef('x', k)} = ${colRef(ALIAS, k)}`).join(' and ');
  return `(select x.xmin from ${ident(set.schema)}.${ident(set.table)} x where ${byKey})::text`;
}

/**
 * What an inner page query selects: every column, or only `columns` when given, and the row version when
 * the ETag needs it.
 */
function rowSelect(set: EntitySet, etag: boolean, columns?: readonly Column[]): string {
  const xmin = etag && !set.versionColumn ? `${ALIAS}.xmin as ${XMIN}, ` : '';
  if (columns) return xmin + columns.map((c) => colRef(ALIAS, c)).join(', ');
  return xmin ? `${xmin}${ALIAS}.*` : '*';
}

/**
 * The columns the outer query reads from a page row, when fewer than all: the key, the selected
 * properties, the version column and the order columns. Undefined (every column) when an order term is
 * an expression, which may read any column. The two branches of a null split carry their rows through an
 * Append and a Sort, and PostgreSQL does not prune unused columns below a UNION ALL: W2's 4-column page
 * of the 11-column account table ran 8-11% faster at PostgreSQL with the branches narrowed (pgbench). A
 * single-branch page measured the same either way (PostgreSQL prunes its subquery itself).
 */
function pageColumns(plan: CollectionPlan): readonly Column[] | undefined {
  const set = plan.set;
  const cols = new Map<string, Column>();
  const add = (c: Column) => cols.set(c.dbName, c);
  set.key.forEach(add);
  plan.select.forEach(add);
  if (plan.etag && set.versionColumn) add(set.versionColumn);
  for (const t of plan.order) {
    const c = orderColumn(t);
    if (!c) return undefined;
    add(c);
  }
  return cols.size < set.columns.length ? [...cols.values()] : undefined;
}

/** The alias of the row an entity's JSON is rendered from (a LATERAL select over the page row). */
const ENTITY = 'm';

/**
 * An entity's JSON text, built by PostgreSQL as `row_to_json` of a LATERAL select over the page row: the
 * ETag (when given) under the name "@odata.etag", then each selected property under its OData name, as
 * the value whose JSON rendering is the OData value (jsonValue); `m.*` names the row even when the table
 * has a column "m". PostgreSQL pulls the LATERAL select up
 * into a plain projection. Measured on a 50-row page (pgbench): ~30% more PostgreSQL throughput than
 * json_build_object with the ETag concatenated in front, and as fast as row_to_json of the bare row.
 */
interface EntityRender {
  /** the entity's JSON text over the row named m */
  readonly json: string;
  /** the LATERAL join that names m after the page row t ('' when nothing is selected) */
  readonly from: string;
  /** m's select list over t ('' when nothing is selected) */
  readonly cols: string;
}

function entityRender(set: EntitySet, select: readonly Column[], ieee754: boolean, etag: string | undefined): EntityRender {
  return renders.get(set, `${ieee754 ? 1 : 0}${etag ?? ''}\u0000${selectionKey(set, select)}`, () => buildEntityRender(select, ieee754, etag));
}

/** Memoised per set and selection: building it (jsonValue and quoting per column) cost 20 us a request. */
const renders = new Memo<EntityRender>(1000);

function selectionKey(set: EntitySet, select: readonly Column[]): string {
  return select === set.columns ? '*' : select.map((c) => c.name).join(',');
}

function buildEntityRender(select: readonly Column[], ieee754: boolean, etag: string | undefined): EntityRender {
  const cols = select.map((c) => `${jsonValue(ALIAS, c, ieee754)} as ${ident(c.name)}`);
  if (etag !== undefined) cols.unshift(`'W/"' || ${etag} || '"' as "@odata.etag"`);
  if (cols.length === 0) return { json: `'{}'::text`, from: '', cols: '' };
  return { json: `row_to_json(${ENTITY}.*)::text`, from: ` cross join lateral (select ${cols.join(', ')}) ${ENTITY}`, cols: cols.join(', ') };
}

function whereParts(plan: { filter?: CollectionPlan['filter']; search?: CollectionPlan['search'] }, params: unknown[]): string[] {
  const parts: string[] = [];
  if (plan.filter) parts.push(compileFilter(plan.filter, { alias: ALIAS, params }));
  if (plan.search) parts.push(compileSearch(plan.search, { alias: ALIAS, params }));
  return parts;
}

interface OrderSql {
  readonly value: string;
  readonly desc: boolean;
  readonly nullable: boolean;
  readonly cast: string;
  /** a bare column (an index on it may serve the order) */
  readonly column?: boolean;
}

/** The column an order term orders by when it is a bare column (the key or a property), else undefined. */
function orderColumn(term: OrderTerm): Column | undefined {
  if (term.kind === 'key') return term.column;
  return term.item.expr.kind === 'column' ? term.item.expr.column : undefined;
}

function orderSql(term: OrderTerm, params: unknown[]): OrderSql {
  switch (term.kind) {
    case 'key':
      return { value: colRef(ALIAS, term.column), desc: false, nullable: false, cast: CAST_TYPE[term.column.pg], column: true };
    case 'item': {
      const v = compileOrderValue(term.item, { alias: ALIAS, params });
      return { value: v.sql, desc: term.item.desc, nullable: v.nullable, cast: v.cast, column: orderColumn(term) !== undefined };
    }
    default:
      return assertNever(term, 'order term');
  }
}

function orderByText(o: OrderSql): string {
  if (!o.nullable) return o.desc ? `${o.value} desc` : o.value;
  return o.desc ? `${o.value} desc nulls last` : `${o.value} asc nulls first`;
}

/** Rows strictly after `after` in the given order (OData null ordering). */
export function keysetCondition(order: readonly OrderSql[], after: readonly (string | null)[], params: unknown[]): string {
  const p = (v: string, cast: string): string => {
    params.push(v);
    return `$${params.length}::${cast}`;
  };
  // Fast path: every term NOT NULL and one direction -> a row comparison an index can serve.
  if (order.every((o) => !o.nullable) && order.every((o) => o.desc === order[0]!.desc) && after.every((v) => v !== null)) {
    const lhs = order.map((o) => o.value).join(', ');
    const rhs = order.map((o, i) => p(after[i]!, o.cast)).join(', ');
    return order.length === 1 ? `${lhs} ${order[0]!.desc ? '<' : '>'} ${rhs}` : `(${lhs}) ${order[0]!.desc ? '<' : '>'} (${rhs})`;
  }
  const ors: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const o = order[i]!;
    const v = after[i]!;
    // null comes first ascending: everything non-null is after it; descending: nothing is after it.
    // Decide before pushing any parameter: a parameter of a left-out disjunct would reach PostgreSQL
    // unused and untyped ("could not determine data type of parameter").
    if (v === null && o.desc) continue;
    const ands: string[] = [];
    for (let j = 0; j < i; j++) {
      const w = after[j]!;
      ands.push(w === null ? `${order[j]!.value} is null` : `${order[j]!.value} = ${p(w, order[j]!.cast)}`);
    }
    let beyond: string;
    if (v === null) {
      beyond = `${o.value} is not null`;
    } else {
      const cmp = `${o.value} ${o.desc ? '<' : '>'} ${p(v, o.cast)}`;
      beyond = o.nullable && o.desc ? `(${cmp} or ${o.value} is null)` : cmp;
    }
    ands.push(beyond);
    ors.push(ands.length === 1 ? ands[0]! : `(${ands.join(' and ')})`);
  }
  return ors.length === 0 ? 'false' : `(${ors.join(' or ')})`;
}

function whereText(parts: readonly string[]): string {
  return parts.length ? ` where ${parts.join(' and ')}` : '';
}

/**
 * OData orders nulls first ascending (last descending), which a default btree cannot serve, so an
 * ORDER BY nullable_col NULLS FIRST LIMIT n becomes a scan and sort of the whole table. When the first
 * order term is a nullable column, read its null rows and its non-null rows in two index-friendly
 * branches (each limited) and order the small union: the non-null branch orders by the bare column,
 * which its index serves. Measured on the 1M-row bench table (W2, `$orderby=name&$top=50` with a filter):
 * a parallel scan + sort (86 ms) becomes an index scan (1.5 ms).
 */
function nullSplit(plan: CollectionPlan, etag: boolean, order: readonly OrderSql[], where: readonly string[], limit: string, offset: string): string | undefined {
  const first = order[0];
  if (!first || !first.nullable || !first.column) return undefined;
  const set = plan.set;
  const row = rowSelect(set, etag, pageColumns(plan));
  const rest = order.slice(1);
  const branchLimit = offset ? `${limit}::int8 + ${offset.replace(' offset ', '')}::int8` : limit;
  const nulls = `select ${row} from ${fromClause(set)}${whereText([...where, `${first.value} is null`])}${rest.length ? ` order by ${rest.map(orderByText).join(', ')}` : ''} limit ${branchLimit}`;
  const values = `select ${row} from ${fromClause(set)}${whereText([...where, `${first.value} is not null`])} order by ${[{ ...first, nullable: false }, ...rest].map(orderByText).join(', ')} limit ${branchLimit}`;
  const branches = first.desc ? [values, nulls] : [nulls, values];
  const nullsSide = first.desc ? `${first.value} is null` : `${first.value} is not null`;
  return `select * from ((${branches[0]}) union all (${branches[1]})) ${ALIAS} order by ${nullsSide}, ${order.map((o, i) => (i === 0 ? orderByText({ ...o, nullable: false }) : orderByText(o))).join(', ')} limit ${limit}${offset}`;
}

/**
 * Collection page. Columns of each result row: [count?], json, etag?, key values..., order values...
 * `fetch` is how many rows to ask for (the page size + 1 to know whether more exist).
 * `aggregate` (the rows of a full page; pages PostgreSQL renders entirely): one row instead,
 * [count?, the entities' JSON joined by AGG_SEPARATOR (null when none), how many, and when more rows
 * than a page were asked for, the order values of the page's last row (for the skip token)].
 */
export function collectionSql(
  plan: CollectionPlan,
  fetch: number,
  ieee754: boolean,
  metadata: 'minimal' | 'full' | 'none' = 'minimal',
  aggregate?: number,
): SqlQuery & {
  readonly keyCount: number;
  readonly orderCount: number;
  readonly etagColumn: boolean;
  /** each json is the entity's final text (Node adds nothing) */
  readonly rendered: boolean;
  readonly aggregated: boolean;
  /**
   * Aggregated pages that ask for a row beyond the page but carry no order values: the skip token's
   * values are these properties of the page's last entity, read from its JSON text (orderFromEntity).
   */
  readonly orderFromEntity?: readonly string[];
  /** JSON.parse reads those properties exactly (no numeric among them; unsafe integers still show) */
  readonly orderFromEntityExact?: boolean;
} {
  const params: unknown[] = [];
  const where = whereParts(plan, params);
  const filterText = where.length ? ` where ${where.join(' and ')}` : '';
  const order = plan.order.map((t) => orderSql(t, params));
  const pageWhere = [...where];
  if (plan.after) pageWhere.push(keysetCondition(order, plan.after, params));
  // With minimal metadata the only per-entity control information is the ETag: PostgreSQL writes it
  // into the entity's text, so Node passes each row through untouched (rendered).
  const offsetting = plan.skip > 0 && !plan.after;
  const rowEtag = plan.etag && !offsetting;
  // Minimal metadata with a projection that leaves out a key: Node adds each entity's @odata.id.
  const idNeeded = metadata === 'minimal' && plan.selectExplicit && selectOmitsKey(plan.set, plan.select);
  const rendered = metadata !== 'full' && !idNeeded;
  const aggregated = aggregate !== undefined && rendered;
  const withKeys = !rendered && !aggregated;
  const etagColumn = plan.etag && !rendered;
  const inlineEtag = plan.etag && metadata === 'minimal' && rendered ? pageEtagSql(plan.set, offsetting) : undefined;
  const entity = entityRender(plan.set, plan.select, ieee754, inlineEtag);
  const cols = [
    `${entity.json} as j`,
    ...(etagColumn ? [`${pageEtagSql(plan.set, offsetting)} as e`] : []),
    ...(withKeys ? plan.set.key.map((k, i) => `${colRef(ALIAS, k)}::text as k${i}`) : []),
    ...order.map((o, i) => `(${o.value})::text as o${i}`),
  ];
  params.push(fetch);
  const limit = `$${params.length}`;
  let offset = '';
  if (offsetting) {
    params.push(plan.skip);
    offset = ` offset $${params.length}`;
  }
  // Sort and limit in an inner query, render JSON in the outer one: otherwise PostgreSQL builds the JSON
  // (and the ETag hash) of every row it sorts, not only of the page (measured: 6.2 s -> 0.2 s for a
  // 1M-row ORDER BY name DESC LIMIT 2000). The outer scan keeps the inner order (as PostgREST relies on).
  const inner = nullSplit(plan, rowEtag, order, pageWhere, limit, offset) ?? `select ${rowSelect(plan.set, rowEtag)} from ${fromClause(plan.set)}${whereText(pageWhere)} order by ${order.map(orderByText).join(', ')} limit ${limit}${offset}`;
  let page = `select ${cols.join(', ')} from (${inner}) ${ALIAS}${entity.from}`;
  // One DataRow for the whole page (the aggregates read the sorted subquery in its order, as the floor's
  // json_agg does): Node receives one string instead of one per entity, which kept pages' rows alive
  // across scavenges and made garbage collection a fifth of Node's time on 50-row pages.
  const fromEntity = aggregated && fetch > aggregate ? orderFromEntity(plan, order.length) : undefined;
  if (aggregated && fetch > aggregate && !fromEntity) {
    params.push(aggregate);
    const at = `$${params.length}::int4`;
    const lastOrder = order.map((_, i) => `(array_agg(p.o${i}))[${at}]`);
    page = `select ${[`string_agg(p.j, E'\\x1e')`, 'count(*)::int4', ...lastOrder].join(', ')} from (${page}) p`;
  } else if (aggregated) {
    // No order values to carry (none needed, or the last entity holds them): m is a plain subquery over
    // the page rather than a LATERAL join, one level less for the planner, which plans every execution of
    // these statements (custom plans): ~13% of PostgreSQL's time on a 100-row keyset page (pgbench).
    const rows = entity.cols ? `(select ${entity.cols} from (${inner}) ${ALIAS}) ${ENTITY}` : `(${inner}) ${ALIAS}`;
    page = `select string_agg(${entity.json}, E'\\x1e'), count(*)::int4 from ${rows}`;
  }
  const count = `select count(*) as n from ${fromClause(plan.set)}${filterText}`;
  const join = aggregated ? 'cross join' : 'left join';
  const text = plan.count ? `select c.n::text, p.* from (${count}) c ${join} lateral (${page}) p${aggregated ? '' : ' on true'}` : page;
  return { text, values: params, keyCount: withKeys ? plan.set.key.length : 0, orderCount: order.length, etagColumn, rendered, aggregated, ...(fromEntity ? { orderFromEntity: fromEntity.names, orderFromEntityExact: fromEntity.exact } : {}) };
}

/**
 * Column kinds whose OData JSON value, read back as text, is a valid PostgreSQL input for the column
 * (digits, the string itself, true/false, ISO dates and times with offsets, 'NaN'/'infinity' as strings).
 * Not floats (INF), timestamps without time zone (shifted), durations, binary; not char(n) (its JSON
 * keeps the padding that its text comparison drops).
 */
const JSON_READABLE: ReadonlySet<Column['pg']> = new Set(['int2', 'int4', 'int8', 'numeric', 'bool', 'uuid', 'date', 'timestamptz']);

/**
 * The properties that give the order values, when every order term is a selected, JSON-readable column;
 * `exact` when no term is numeric, so that JSON.parse reads every value exactly (an integer beyond 2^53
 * shows itself as unsafe; a numeric 1.000000000000000001 would read as 1).
 */
function orderFromEntity(plan: CollectionPlan, orderCount: number): { names: string[]; exact: boolean } | undefined {
  const names: string[] = [];
  let exact = true;
  for (const t of plan.order) {
    const col = orderColumn(t);
    if (!col || !plan.select.includes(col)) return undefined;
    if (!JSON_READABLE.has(col.pg) && !(col.pg === 'text' && (col.pgType === 'text' || col.pgType.startsWith('character varying')))) return undefined;
    if (col.pg === 'numeric') exact = false;
    names.push(col.name);
  }
  return names.length === orderCount ? { names, exact } : undefined;
}

export function countSql(plan: CountPlan): SqlQuery {
  const params: unknown[] = [];
  const where = whereParts(plan, params);
  return { text: `select count(*)::text from ${fromClause(plan.set)}${where.length ? ` where ${where.join(' and ')}` : ''}`, values: params };
}

function keyWhere(key: readonly KeyValue[], params: unknown[]): string {
  return key
    .map((kv) => {
      params.push(kv.value);
      return `${colRef(ALIAS, kv.column)} = ${keyParamSql(params.length, kv.column)}`;
    })
    .join(' and ');
}

/** One entity: [json, etag?] or no row. The text is memoised per set and shape (key lookups repeat it). */
export function entitySql(plan: EntityPlan, ieee754: boolean): SqlQuery {
  const shape = `${ieee754 ? 1 : 0}${plan.etag ? 1 : 0}${plan.key.map((k) => k.column.name).join(',')}\u0000${selectionKey(plan.set, plan.select)}`;
  const text = entityTexts.get(plan.set, shape, () => {
    const whole = plan.set.wholeRow === true && plan.select === plan.set.columns && !ieee754;
    const cols = [whole ? `row_to_json(${ALIAS})::text` : jsonObject(ALIAS, plan.select, ieee754), ...(plan.etag ? [etagSql(plan.set)] : [])];
    return `select ${cols.join(', ')} from ${fromClause(plan.set)} where ${keyWhere(plan.key, [])}`;
  });
  return { text, values: plan.key.map((kv) => kv.value) };
}

const entityTexts = new Memo<string>(1000);

/** One property: [json value, raw text value] or no row (entity missing). */
export function propertySql(plan: PropertyPlan, ieee754: boolean): SqlQuery {
  const params: unknown[] = [];
  const c = plan.property;
  const raw = c.pg === 'bytea' ? colRef(ALIAS, c) : `to_json(${jsonValue(ALIAS, c, true)}) #>> '{}'`;
  const json = `to_json(${jsonValue(ALIAS, c, ieee754)})::text`;
  return { text: `select ${json}, ${raw} from ${fromClause(plan.set)} where ${keyWhere(plan.key, params)}`, values: params };
}

export type { Column };
