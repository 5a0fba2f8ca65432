/**
 * Parsed query strings and their options, remembered: clients repeat the same URLs (a Salesforce list
 * view, a dashboard tile), and percent-decoding and checking the options of a filtered page took ~20 us
 * of its request. Both are immutable and shared between requests. Query strings with a skip token are
 * kept apart, in a smaller memo: a walk brings one per page, and would otherwise push the list views'
 * URLs out (skip tokens are deterministic, so users paging through one list repeat them too). Not kept:
 * query strings over 2,000 characters, and whatever fails to parse (the error is thrown again on every
 * request).
 */
import { parseQueryString, toQueryOptions, type QueryOptions, type RawQuery, type ResourceKind } from '../odata/query-options.js';
import { Memo } from '../sql/memo.js';

const QUERIES = {};
const queries = new Memo<RawQuery>(500);
const tokenQueries = new Memo<RawQuery>(128);

export function parseQuery(qs: string): RawQuery {
  if (qs === '' || qs.length > 2000) return parseQueryString(qs);
  return (/skiptoken/i.test(qs) ? tokenQueries : queries).get(QUERIES, qs, () => parseQueryString(qs));
}

const options = new WeakMap<RawQuery, Map<ResourceKind, QueryOptions>>();

/** toQueryOptions, once per parsed query and kind of resource. */
export function queryOptions(raw: RawQuery, kind: ResourceKind): QueryOptions {
  let byKind = options.get(raw);
  if (byKind === undefined) options.set(raw, (byKind = new Map()));
  let o = byKind.get(kind);
  if (o === undefined) byKind.set(kind, (o = toQueryOptions(raw, kind)));
  return o;
}
