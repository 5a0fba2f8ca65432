/**
 * Pure: the query options of a collection (or its $count) -> a CollectionPlan / CountPlan. Parses each
 * option with odata/ (syntax) and resolves it with the expression planner (names -> columns, types),
 * orders by the client's $orderby followed by the key (a total order for keyset paging), and decodes the
 * skip token against the query it must belong to.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import { parseFilter, parseOrderBy, parseSearch, parseSelect } from '../odata/filter-parser.js';
import type { ParseLimits } from '../odata/filter-ast.js';
import type { QueryOptions } from '../odata/query-options.js';
import { planFilter, planOrderBy, planSearch, planSelect } from './expr.js';
import type { CollectionPlan, CountPlan, OrderTerm } from './read.js';
import { decodeSkipToken } from './skiptoken.js';
import type { TypedOrderItem } from './typed-expr.js';

export interface PagingInput {
  readonly pageSize: number;
  readonly etag: boolean;
  readonly limits: ParseLimits;
}

export function planSelection(set: EntitySet, opts: QueryOptions): { select: readonly Column[]; explicit: boolean } {
  if (opts.select === undefined) return { select: set.columns, explicit: false };
  const items = parseSelect(opts.select);
  // Plan every item even beside '*': an unknown (or unexposed) property is a 400 either way.
  const select = planSelect(items, set);
  if (items.some((i) => i.kind === 'star')) return { select: set.columns, explicit: false };
  return { select, explicit: true };
}

/**
 * Does a projection leave out a key property? Then minimal metadata carries each entity's @odata.id
 * (JSON Format 4.5.8), or clients could not re-read or update what they were given.
 */
export function selectOmitsKey(set: EntitySet, select: readonly Column[]): boolean {
  return set.key.some((k) => !select.includes(k));
}

export function planWhere(set: EntitySet, opts: QueryOptions, limits: ParseLimits): Pick<CollectionPlan, 'filter' | 'search'> {
  const filter = opts.filter !== undefined ? planFilter(parseFilter(opts.filter, limits), set, opts.aliases, limits) : undefined;
  const search = opts.search !== undefined ? planSearch(parseSearch(opts.search, limits), set) : undefined;
  return { ...(filter ? { filter } : {}), ...(search ? { search } : {}) };
}

/** The text that a skip token is bound to: what decides which rows and in which order. */
export function queryShape(set: EntitySet, opts: QueryOptions): string {
  const aliases = [...opts.aliases.entries()].sort().map(([k, v]) => `@${k}=${v}`).join('&');
  return [set.name, opts.filter ?? '', opts.search ?? '', opts.orderby ?? '', aliases].join('\u0000');
}

/**
 * Everything of a collection plan but the skip token: what the URL's other options decide. The pages of
 * one walk share it (only their token differs), so the read handler remembers it per URL options.
 */
export function planCollectionShape(set: EntitySet, opts: QueryOptions, input: PagingInput): CollectionPlan {
  const { select, explicit } = planSelection(set, opts);
  const where = planWhere(set, opts, input.limits);
  const items: TypedOrderItem[] = opts.orderby !== undefined ? planOrderBy(parseOrderBy(opts.orderby, input.limits), set, opts.aliases, input.limits) : [];
  const order: OrderTerm[] = items.map((item) => ({ kind: 'item', item }));
  // Append key columns not already ordered on as plain columns, so the order is total.
  for (const k of set.key) {
    const already = items.some((i) => i.expr.kind === 'column' && i.expr.column === k);
    if (!already) order.push({ kind: 'key', column: k });
  }
  return {
    kind: 'collection',
    set,
    select,
    selectExplicit: explicit,
    ...where,
    order,
    skip: opts.skip ?? 0,
    ...(opts.top !== undefined ? { limit: opts.top } : {}),
    pageSize: input.pageSize,
    count: opts.count ?? false,
    etag: input.etag,
  };
}

/** The plan resumed after a verified skip token: its keyset position, and the rows still owed under $top. */
export function resumeAfter(plan: CollectionPlan, skiptoken: string, secret: string, shape: string): CollectionPlan {
  const token = decodeSkipToken(skiptoken, secret, shape, plan.order.length);
  const limit = token.remaining === undefined ? plan.limit : plan.limit === undefined ? token.remaining : Math.min(plan.limit, token.remaining);
  return { ...plan, after: token.after, ...(limit !== undefined ? { limit } : {}) };
}

export function planCount(set: EntitySet, opts: QueryOptions, limits: ParseLimits): CountPlan {
  return { kind: 'count', set, ...planWhere(set, opts, limits) };
}
