/**
 * The read path: parse -> plan -> sql -> db -> format for the service document, $metadata, collections
 * (with server-driven keyset paging), /$count, single entities and single properties.
 */
import type { Context } from './kernel.js';
import { parse as parseLossless } from 'lossless-json';
import type { Catalog, EntitySet } from '../catalog/types.js';
import { ODataError } from '../errors/odata-error.js';
import { csdlJson, csdlXml, serviceDocument } from '../format/csdl.js';
import { collectionBody, contextUrl, entityControl, entityId, entityJson, etagValue, propertyJson, selectFragment, type Urls, urlSegment, withControl, withPropertyTypes } from '../format/json.js';
import type { ResourcePath } from '../odata/path.js';
import type { QueryOptions, RawQuery } from '../odata/query-options.js';
import { queryOptions } from './query-cache.js';
import { type PagingInput, planCollectionShape, planCount, planSelection, queryShape, selectOmitsKey, resumeAfter } from '../plan/collection.js';
import { parseIfMatch } from '../plan/write.js';
import { planKey, type CollectionPlan, type EntityPlan, type PropertyPlan } from '../plan/read.js';
import { encodeSkipToken } from '../plan/skiptoken.js';
import { AGG_SEPARATOR, collectionSql, countSql, entitySql, propertySql } from '../sql/read.js';
import type { AppDeps } from './context.js';
import { Memo, optionsKey } from '../sql/memo.js';
import { findSet, visibleSets } from './context.js';
import { jsonContentType, negotiate, parsePrefer, responseVersion } from './negotiate.js';
import type { AuthUser } from '../auth/user.js';

export interface ReadRequest {
  readonly path: ResourcePath;
  readonly raw: RawQuery;
  readonly urls: Urls;
  readonly user: AuthUser | undefined;
  readonly catalog: Catalog;
  /** a lower cap on a collection page's bytes than the server's (a $batch's remaining response budget) */
  readonly maxResponseBytes?: number;
}

const metadataCache = new WeakMap<Catalog, Map<string, string>>();
function cachedMetadata(catalog: Catalog, key: string, build: () => string): string {
  let m = metadataCache.get(catalog);
  if (!m) metadataCache.set(catalog, (m = new Map()));
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = build()));
  return v;
}

export async function handleRead(ctx: Context, deps: AppDeps, req: ReadRequest): Promise<void> {
  const { path, raw, urls, user, catalog } = req;
  const accept = ctx.get('Accept') || undefined;
  switch (path.kind) {
    case 'serviceDocument': {
      const opts = queryOptions(raw, 'serviceDocument');
      const f = negotiate(accept, opts.format, ['json']);
      ctx.type = jsonContentType(f);
      ctx.body = serviceDocument(f.metadata === 'none' ? undefined : `${urls.root}$metadata`, visibleSets(catalog, user));
      return;
    }
    case 'metadata': {
      const opts = queryOptions(raw, 'metadata');
      const f = negotiate(accept, opts.format, ['xml', 'json']);
      // CSDL JSON is OData 4.01: a client that speaks only 4.0 (OData-MaxVersion: 4.0) gets CSDL XML,
      // whatever it accepts, since its metadata reader knows no other form
      const json = f.produced === 'json' && responseVersion(ctx.headers) !== '4.0';
      const sets = visibleSets(catalog, user);
      const key = `${json ? 'json' : 'xml'}:${sets.map((s) => s.name).join(',')}`;
      const csdlOpts = deps.config.naming === 'heroku' ? { textMaxLength: 32000 } : {};
      ctx.body = cachedMetadata(catalog, key, () => (json ? csdlJson(catalog, sets, csdlOpts) : csdlXml(catalog, sets, csdlOpts)));
      ctx.type = json ? 'application/json' : 'application/xml';
      return;
    }
    case 'collection':
      return readCollection(ctx, deps, findSet(catalog, user, path.set), queryOptions(raw, 'collection'), urls, catalog.namespace, req.maxResponseBytes);
    case 'count': {
      const set = findSet(catalog, user, path.set);
      const opts = queryOptions(raw, 'count');
      negotiate(accept, opts.format, ['text', 'json']);
      const q = countSql(planCount(set, opts, deps.config.filterLimits));
      const rows = await deps.db.readArrays(q.text, q.values);
      ctx.type = 'text/plain';
      ctx.body = String(rows[0]![0]);
      return;
    }
    case 'entity': {
      const set = findSet(catalog, user, path.set);
      const opts = queryOptions(raw, 'entity');
      const f = negotiate(accept, opts.format, ['json']);
      const { select, explicit } = planSelection(set, opts);
      const plan: EntityPlan = { kind: 'entity', set, key: planKey(set, path.key), select, selectExplicit: explicit, etag: !set.readOnly };
      const q = entitySql(plan, f.ieee754);
      const rows = await deps.db.readArrays(q.text, q.values);
      const row = rows[0];
      if (!row) throw new ODataError('EntityNotFound', `No entity of ${set.name} has this key.`);
      const etag = plan.etag ? (row[1] as string) : undefined;
      if (etag !== undefined) {
        // If-Match on a read (Protocol 8.2.4): processed only when the ETag matches, else 412
        const im = parseIfMatch(ctx.get('If-Match') || undefined);
        if (im !== undefined && im !== 'any' && !im.includes(etag)) {
          throw new ODataError('PreconditionFailed', `The ${set.name} entity has changed: its ETag does not match If-Match.`);
        }
        ctx.set('ETag', etagValue(etag));
        const inm = ctx.get('If-None-Match');
        if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim() === etagValue(etag)))) {
          ctx.status = 304;
          return;
        }
      }
      const keyTexts = plan.key.map((k) => String(k.value));
      ctx.type = jsonContentType(f);
      ctx.body = entityJson(
        contextUrl(urls, `${selectFragment(set, select, explicit)}/$entity`),
        f.metadata,
        f.metadata === 'full' ? withPropertyTypes(set, row[0] as string) : (row[0] as string),
        entityControl(set, catalog.namespace, f, urls, keyTexts, etag, explicit && selectOmitsKey(set, select)),
      );
      return;
    }
    case 'property': {
      const set = findSet(catalog, user, path.set);
      const opts = queryOptions(raw, 'property');
      const property = set.columnsByName.get(path.property);
      if (!property) throw new ODataError('PropertyNotFound', `${set.name} has no property "${path.property.slice(0, 128)}".`, { target: path.property.slice(0, 128) });
      const plan: PropertyPlan = { kind: 'property', set, key: planKey(set, path.key), property, rawValue: path.value };
      const f = negotiate(accept, opts.format, path.value ? (property.edm === 'Edm.Binary' ? ['text', 'json'] : ['text', 'json']) : ['json']);
      const q = propertySql(plan, f.ieee754);
      const rows = await deps.db.readArrays(q.text, q.values);
      const row = rows[0];
      if (!row) throw new ODataError('EntityNotFound', `No entity of ${set.name} has this key.`);
      if (row[1] === null) {
        ctx.status = 204; // a null property (and its $value) has no content
        return;
      }
      if (path.value) {
        if (property.edm === 'Edm.Binary') {
          ctx.type = 'application/octet-stream';
          ctx.body = row[1] as Buffer;
        } else {
          ctx.type = 'text/plain; charset=utf-8';
          ctx.body = String(row[1]);
        }
        return;
      }
      const id = entityId(set, plan.key.map((k) => String(k.value)));
      ctx.type = jsonContentType(f);
      ctx.body = propertyJson(contextUrl(urls, `${id}/${property.name}`), f.metadata, row[0] as string);
      return;
    }
    case 'batch':
      throw new ODataError('MethodNotAllowed', '$batch accepts POST only.', { headers: { Allow: 'POST' } });
  }
}

async function readCollection(ctx: Context, deps: AppDeps, set: EntitySet, opts: QueryOptions, urls: Urls, namespace: string, maxResponseBytes?: number): Promise<void> {
  const f = negotiate(ctx.get('Accept') || undefined, opts.format, ['json']);
  const prefer = parsePrefer(ctx.get('Prefer'));
  let pageSize = deps.config.pageSize;
  const mps = prefer.get('odata.maxpagesize') ?? prefer.get('maxpagesize');
  if (mps !== undefined && /^[0-9]+$/.test(mps) && Number(mps) > 0) {
    pageSize = Math.min(pageSize, Number(mps));
    ctx.append('Preference-Applied', `odata.maxpagesize=${pageSize}`);
  }
  if (opts.top !== undefined && opts.top > deps.config.maxTop) {
    throw new ODataError('InvalidQueryOption', `$top may not exceed ${deps.config.maxTop}.`, { target: '$top' });
  }
  const input = { pageSize, etag: !set.readOnly, limits: deps.config.filterLimits };
  const prepare = (plan: CollectionPlan): PreparedPage => {
    const wanted = plan.limit === undefined ? Infinity : plan.limit;
    const pageRows = Math.min(pageSize, wanted);
    const fetch = pageRows < wanted ? pageRows + 1 : pageRows;
    return { plan, pageRows, fetch, q: collectionSql(plan, fetch, f.ieee754, f.metadata, pageRows) };
  };
  // The text this query's skip tokens are signed over: checked on the way in, signed on the way out,
  // built once and only for pages that have either.
  let shape: string | undefined;
  const shapeOf = (): string => (shape ??= queryShape(set, opts));
  // A skip token makes every URL of a walk unique: the plan of the rest of the URL is remembered, and
  // the token, verified, resumes it. Tokens are deterministic (users paging through one list send the
  // same ones), so resumed pages are remembered too, apart from other URLs'. Like every memo here they
  // are per entity set, and sets are rebuilt with each app (and so with each token secret).
  const prepared = opts.skiptoken !== undefined
    ? tokenPages.get(set, optionsKey(opts, pageSize, f.ieee754, f.metadata), () =>
        prepare(resumeAfter(walkPlan(set, opts, pageSize, input), opts.skiptoken!, deps.tokenSecret, shapeOf())))
    : pages.get(set, optionsKey(opts, pageSize, f.ieee754, f.metadata), () => prepare(planCollectionShape(set, opts, input)));
  const { plan, pageRows, fetch } = prepared;
  let q = prepared.q;
  let rows = fetch === 0 && !plan.count ? [] : await deps.db.readArrays(q.text, q.values);
  const base = plan.count ? 1 : 0;
  const count = plan.count ? (rows[0] ? String(rows[0][0]) : '0') : undefined;
  const limitBytes = Math.min(maxResponseBytes ?? Infinity, deps.config.server.maxResponseBytes) - 4096;
  let page = q.aggregated ? aggregatedPage(rows[0], base, pageRows, q.orderCount, limitBytes, q.orderFromEntity, q.orderFromEntityExact === true) : undefined;
  if (!page) {
    if (q.aggregated) {
      // Over the size cap: read it again row by row, to cut it at an entity and link to the rest.
      q = collectionSql(plan, fetch, f.ieee754, f.metadata);
      rows = await deps.db.readArrays(q.text, q.values);
    }
    const keyStart = base + 1 + (q.etagColumn ? 1 : 0);
    const render = q.rendered
      ? undefined
      : (row: unknown[]): string => {
          const keyTexts = q.keyCount > 0 ? (row.slice(keyStart, keyStart + q.keyCount) as string[]) : undefined;
          const etag = q.etagColumn ? (row[base + 1] as string) : undefined;
          const entity = f.metadata === 'full' ? withPropertyTypes(set, row[base] as string) : (row[base] as string);
          return withControl(entity, entityControl(set, namespace, f, urls, keyTexts, etag, true));
        };
    page = rowPage(rows, base, pageRows, keyStart + q.keyCount, q.orderCount, limitBytes, render);
  }
  let nextLink: string | undefined;
  if (page.more && page.after) {
    const remaining = plan.limit === undefined ? undefined : plan.limit - page.rows;
    if (remaining === undefined || remaining > 0) {
      // The same page read again ends at the same row: its link is signed once (an HMAC is ~15 us).
      const key = `${urls.root}\u0000${remaining ?? ''}\u0000${JSON.stringify(page.after)}`;
      if (prepared.link?.key === key) nextLink = prepared.link.value;
      else {
        const token = encodeSkipToken({ after: page.after, ...(remaining !== undefined ? { remaining } : {}) }, deps.tokenSecret, shapeOf());
        nextLink = buildNextLink(urls, set, opts, token);
        prepared.link = { key, value: nextLink };
      }
    }
  }
  ctx.type = jsonContentType(f);
  const body = collectionBody({
    context: contextUrl(urls, selectFragment(set, plan.select, plan.selectExplicit)),
    ...(count !== undefined ? { count } : {}),
    ...(nextLink !== undefined ? { nextLink } : {}),
    entities: page.entities,
    ieee754: f.ieee754,
    metadata: f.metadata,
  });
  // The separator never occurs in JSON text (control characters are escaped), so every 0x1e is one.
  if (page.separated) for (let i = body.indexOf(SEPARATOR_BYTE); i >= 0; i = body.indexOf(SEPARATOR_BYTE, i + 1)) body[i] = 0x2c;
  ctx.body = body;
}

interface PreparedPage {
  readonly plan: CollectionPlan;
  readonly pageRows: number;
  readonly fetch: number;
  readonly q: ReturnType<typeof collectionSql>;
  /** the nextLink this page last answered with, and what it was built from */
  link?: { readonly key: string; readonly value: string };
}

const pages = new Memo<PreparedPage>(256);
/** Pages resumed from a skip token, kept apart so that a long walk does not push other URLs' out. */
const tokenPages = new Memo<PreparedPage>(128);
/** Plans of skip-token URLs without their token (the pages of one walk share one). */
const shapes = new Memo<CollectionPlan>(256);

/** The remembered plan of a skip-token URL's other options. */
function walkPlan(set: EntitySet, opts: QueryOptions, pageSize: number, input: PagingInput): CollectionPlan {
  const { skiptoken: _token, ...rest } = opts;
  return shapes.get(set, optionsKey(rest, pageSize), () => planCollectionShape(set, rest, input));
}

interface Page {
  readonly entities: string[];
  /** entities on this page */
  readonly rows: number;
  /** rows exist beyond this page */
  readonly more: boolean;
  /** the order values of the page's last row, for the skip token */
  readonly after?: (string | null)[];
  /** the entities' texts hold AGG_SEPARATOR between entities, to become commas */
  readonly separated?: boolean;
}

const SEPARATOR_BYTE = AGG_SEPARATOR.charCodeAt(0);

/**
 * An aggregated page ([json joined, n, last order values...]), or undefined when over the size cap.
 * With `fromEntity` the order values are those properties of the page's last entity (its JSON text).
 */
function aggregatedPage(row: unknown[] | undefined, base: number, pageRows: number, orderCount: number, limitBytes: number, fromEntity?: readonly string[], exactInJs = false): Page | undefined {
  const joined = (row?.[base] ?? null) as string | null;
  if (joined === null) return { entities: [], rows: 0, more: false };
  const n = Number(row![base + 1]);
  const more = n > pageRows;
  // the row beyond the page (asked for to know that more exist) is the last one
  const text = more ? joined.slice(0, joined.lastIndexOf(AGG_SEPARATOR)) : joined;
  if (Buffer.byteLength(text) > limitBytes) return undefined;
  let after: (string | null)[] | undefined;
  if (more) after = fromEntity ? orderValuesOf(text.slice(text.lastIndexOf(AGG_SEPARATOR) + 1), fromEntity, exactInJs) : (row!.slice(base + 2, base + 2 + orderCount) as (string | null)[]);
  return { entities: [text], rows: more ? pageRows : n, more, ...(after ? { after } : {}), separated: true };
}

/**
 * Properties of an entity's JSON text as PostgreSQL input text: numbers keep their digits. When no order
 * column is numeric (`exactInJs`), JSON.parse reads strings, booleans and safe integers (a key like
 * `id`) exactly and several times faster than lossless-json, which reads the entity otherwise, and when
 * an integer is beyond 2^53.
 */
function orderValuesOf(entityJson: string, names: readonly string[], exactInJs: boolean): (string | null)[] {
  const fast = exactInJs ? (JSON.parse(entityJson) as Record<string, unknown>) : undefined;
  const exact = fast !== undefined && names.every((name) => {
    const v = fast[name];
    return typeof v !== 'number' || Number.isSafeInteger(v);
  });
  const o = exact ? fast : (parseLossless(entityJson) as Record<string, unknown>);
  return names.map((name) => {
    const v = o[name];
    return v === null || v === undefined ? null : String(v);
  });
}

/** A page from one result row per entity, cut under the size cap. */
function rowPage(
  rows: unknown[][],
  base: number,
  pageRows: number,
  orderStart: number,
  orderCount: number,
  limitBytes: number,
  render: ((row: unknown[]) => string) | undefined,
): Page {
  const entities: string[] = [];
  let bytes = 0;
  let fetched = 0; // entity rows returned (the count-only row of an empty page has none)
  let cut = false; // the page ended early under the response size cap
  for (const row of rows) {
    if (row[base] === null) break;
    fetched++;
    if (fetched > pageRows || cut) continue;
    const json = render ? render(row) : (row[base] as string);
    const size = Buffer.byteLength(json) + 1;
    if (entities.length > 0 && bytes + size > limitBytes) {
      cut = true;
      continue;
    }
    bytes += size;
    entities.push(json);
  }
  const more = cut || fetched > pageRows;
  const last = entities.length > 0 ? rows[entities.length - 1] : undefined;
  return { entities, rows: entities.length, more, ...(more && last ? { after: last.slice(orderStart, orderStart + orderCount) as (string | null)[] } : {}) };
}

function enc(v: string): string {
  return encodeURIComponent(v).replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%40/g, '@').replace(/%3A/g, ':').replace(/%24/g, '$');
}

function buildNextLink(urls: Urls, set: EntitySet, opts: QueryOptions, token: string): string {
  const parts: string[] = [];
  if (opts.filter !== undefined) parts.push(`$filter=${enc(opts.filter)}`);
  if (opts.search !== undefined) parts.push(`$search=${enc(opts.search)}`);
  if (opts.orderby !== undefined) parts.push(`$orderby=${enc(opts.orderby)}`);
  if (opts.select !== undefined) parts.push(`$select=${enc(opts.select)}`);
  if (opts.count !== undefined) parts.push(`$count=${opts.count}`);
  if (opts.format !== undefined) parts.push(`$format=${enc(opts.format)}`);
  for (const [k, v] of opts.aliases) parts.push(`@${enc(k)}=${enc(v)}`);
  parts.push(`$skiptoken=${token}`);
  return `${urls.root}${urlSegment(set.name)}?${parts.join('&')}`;
}
