/**
 * The read path: parse -> plan -> sql -> db -> format for the service document, $metadata, collections
 * (with server-driven keyset paging), /$count, single entities and single properties.
 */
import type { Context } from 'koa';
import type { Catalog, EntitySet } from '../catalog/types.js';
import { ODataError } from '../errors/odata-error.js';
import { csdlJson, csdlXml, serviceDocument } from '../format/csdl.js';
import { collectionJson, contextUrl, entityControl, entityJson, etagValue, propertyJson, selectFragment, type Urls, withControl } from '../format/json.js';
import type { ResourcePath } from '../odata/path.js';
import { type QueryOptions, type RawQuery, toQueryOptions } from '../odata/query-options.js';
import { planCollection, planCount, planSelection, queryShape } from '../plan/collection.js';
import { planKey, type CollectionPlan, type EntityPlan, type PropertyPlan } from '../plan/read.js';
import { encodeSkipToken } from '../plan/skiptoken.js';
import { collectionSql, countSql, entitySql, propertySql } from '../sql/read.js';
import type { AppDeps } from './context.js';
import { findSet, visibleSets } from './context.js';
import { jsonContentType, negotiate, parsePrefer } from './negotiate.js';
import type { AuthUser } from '../auth/user.js';

export interface ReadRequest {
  readonly path: ResourcePath;
  readonly raw: RawQuery;
  readonly urls: Urls;
  readonly user: AuthUser | undefined;
  readonly catalog: Catalog;
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
      const opts = toQueryOptions(raw, 'serviceDocument');
      const f = negotiate(accept, opts.format, ['json']);
      ctx.type = jsonContentType(f);
      ctx.body = serviceDocument(`${urls.root}$metadata`, visibleSets(catalog, user));
      return;
    }
    case 'metadata': {
      const opts = toQueryOptions(raw, 'metadata');
      const f = negotiate(accept, opts.format, ['xml', 'json']);
      const sets = visibleSets(catalog, user);
      const key = `${f.produced}:${sets.map((s) => s.name).join(',')}`;
      const csdlOpts = deps.config.naming === 'heroku' ? { textMaxLength: 32000 } : {};
      ctx.body = cachedMetadata(catalog, key, () => (f.produced === 'json' ? csdlJson(catalog, sets, csdlOpts) : csdlXml(catalog, sets, csdlOpts)));
      ctx.type = f.produced === 'json' ? 'application/json' : 'application/xml';
      return;
    }
    case 'collection':
      return readCollection(ctx, deps, findSet(catalog, user, path.set), toQueryOptions(raw, 'collection'), urls, catalog.namespace);
    case 'count': {
      const set = findSet(catalog, user, path.set);
      const opts = toQueryOptions(raw, 'count');
      negotiate(accept, opts.format, ['text', 'json']);
      const q = countSql(planCount(set, opts, deps.config.filterLimits));
      const rows = await deps.db.queryArrays(q.text, q.values);
      ctx.type = 'text/plain';
      ctx.body = String(rows[0]![0]);
      return;
    }
    case 'entity': {
      const set = findSet(catalog, user, path.set);
      const opts = toQueryOptions(raw, 'entity');
      const f = negotiate(accept, opts.format, ['json']);
      const { select, explicit } = planSelection(set, opts);
      const plan: EntityPlan = { kind: 'entity', set, key: planKey(set, path.key), select, selectExplicit: explicit, etag: !set.readOnly };
      const q = entitySql(plan, f.ieee754);
      const rows = await deps.db.queryArrays(q.text, q.values);
      const row = rows[0];
      if (!row) throw new ODataError('EntityNotFound', `No entity of ${set.name} has this key.`);
      const etag = plan.etag ? (row[1] as string) : undefined;
      if (etag !== undefined) {
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
        row[0] as string,
        entityControl(set, catalog.namespace, f, urls, keyTexts, etag),
      );
      return;
    }
    case 'property': {
      const set = findSet(catalog, user, path.set);
      const opts = toQueryOptions(raw, 'property');
      const property = set.columnsByName.get(path.property);
      if (!property) throw new ODataError('PropertyNotFound', `${set.name} has no property "${path.property.slice(0, 128)}".`, { target: path.property.slice(0, 128) });
      const plan: PropertyPlan = { kind: 'property', set, key: planKey(set, path.key), property, rawValue: path.value };
      const f = negotiate(accept, opts.format, path.value ? (property.edm === 'Edm.Binary' ? ['text', 'json'] : ['text', 'json']) : ['json']);
      const q = propertySql(plan, f.ieee754);
      const rows = await deps.db.queryArrays(q.text, q.values);
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
      const keyId = plan.key.map((k) => String(k.value));
      const id = set.key.length === 1 ? `${set.name}(${keyId[0]})` : set.name;
      ctx.type = jsonContentType(f);
      ctx.body = propertyJson(contextUrl(urls, `${id}/${property.name}`), f.metadata, row[0] as string);
      return;
    }
    case 'batch':
      throw new ODataError('MethodNotAllowed', '$batch accepts POST only.', { headers: { Allow: 'POST' } });
  }
}

async function readCollection(ctx: Context, deps: AppDeps, set: EntitySet, opts: QueryOptions, urls: Urls, namespace: string): Promise<void> {
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
  const plan: CollectionPlan = planCollection(set, opts, { pageSize, tokenSecret: deps.tokenSecret, etag: !set.readOnly, limits: deps.config.filterLimits });
  const wanted = plan.limit === undefined ? Infinity : plan.limit;
  const pageRows = Math.min(pageSize, wanted);
  const fetch = pageRows < wanted ? pageRows + 1 : pageRows;
  const q = collectionSql(plan, fetch, f.ieee754, f.metadata);
  const rows = fetch === 0 && !plan.count ? [] : await deps.db.queryArrays(q.text, q.values);

  const base = plan.count ? 1 : 0;
  const count = plan.count ? (rows[0] ? String(rows[0][0]) : '0') : undefined;
  const entities: string[] = [];
  let bytes = 0;
  let fetched = 0; // entity rows returned (the count-only row of an empty page has none)
  let cut = false; // the page ended early under the response size cap
  const keyStart = base + 1 + (q.etagColumn ? 1 : 0);
  const orderStart = keyStart + q.keyCount;
  const limitBytes = deps.config.server.maxResponseBytes - 4096;
  for (const row of rows) {
    if (row[base] === null) break;
    fetched++;
    if (fetched > pageRows || cut) continue;
    let json = row[base] as string;
    if (q.xminLead) json = xminToEtag(json);
    else if (!q.rendered) {
      const keyTexts = f.metadata === 'full' ? (row.slice(keyStart, keyStart + q.keyCount) as string[]) : undefined;
      const etag = q.etagColumn ? (row[base + 1] as string) : undefined;
      json = withControl(json, entityControl(set, namespace, f, urls, keyTexts, etag));
    }
    const size = Buffer.byteLength(json) + 1;
    if (entities.length > 0 && bytes + size > limitBytes) {
      cut = true;
      continue;
    }
    bytes += size;
    entities.push(json);
  }
  let nextLink: string | undefined;
  const more = cut || fetched > pageRows;
  if (more && entities.length > 0) {
    const last = rows[entities.length - 1]!;
    const after = last.slice(orderStart, orderStart + q.orderCount) as (string | null)[];
    const remaining = plan.limit === undefined ? undefined : plan.limit - entities.length;
    if (remaining === undefined || remaining > 0) {
      const token = encodeSkipToken({ after, ...(remaining !== undefined ? { remaining } : {}) }, deps.tokenSecret, queryShape(set, opts));
      nextLink = buildNextLink(urls, set, opts, token);
    }
  }
  ctx.type = jsonContentType(f);
  // One UTF-8 encoding of the page (a string body is measured, then encoded again, by Koa and Node).
  ctx.body = Buffer.from(collectionJson({
    context: contextUrl(urls, selectFragment(set, plan.select, plan.selectExplicit)),
    ...(count !== undefined ? { count } : {}),
    ...(nextLink !== undefined ? { nextLink } : {}),
    entities,
    ieee754: f.ieee754,
    metadata: f.metadata,
  }));
}

/** '{"$xmin":"123","id":1,...}' -> '{"@odata.etag":"W/\\"123\\"","id":1,...}' */
function xminToEtag(json: string): string {
  const end = json.indexOf('"', 10);
  return `{"@odata.etag":"W/\\"${json.slice(10, end)}\\"",${json.slice(end + 2)}`;
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
  return `${urls.root}${encodeURIComponent(set.name).replace(/%24/g, '$')}?${parts.join('&')}`;
}
