/**
 * The write path: POST (create), PATCH (update), PUT (replace), DELETE, and $batch (batch.ts). The core,
 * executeWrite, works on plain inputs (headers, body text) and a connection or transaction, and returns
 * an outcome (status, headers, body), so $batch runs the very same code inside a change set's
 * transaction. Order of checks: resource and method (404/405), permission (403), preconditions (428;
 * after the body for PATCH/PUT, whose 4.01 @odata.etag counts), media type and body (415/400), then one SQL
 * statement that writes, checks If-Match / If-None-Match and returns the row.
 */
import type { Context } from './kernel.js';
import type { Catalog, Column, EntitySet } from '../catalog/types.js';
import { stringify } from 'lossless-json';
import type { ArrayQueryable } from '../db/pool.js';
import { ODataError } from '../errors/odata-error.js';
import { contextUrl, entityControl, entityId, entityJson, etagValue, propertyJson, selectFragment, type Urls, withPropertyTypes } from '../format/json.js';
import type { ResourcePath } from '../odata/path.js';
import type { RawQuery } from '../odata/query-options.js';
import { queryOptions } from './query-cache.js';
import { planKey } from '../plan/read.js';
import { planSelection, selectOmitsKey } from '../plan/collection.js';
import { conditional, parseIfMatch, planDelete, planInsert, planUpdate, type Preconditions, type WritePlan } from '../plan/write.js';
import { existsSql, writeSql } from '../sql/write.js';
import { validateBody, writable } from '../validate/entity-schema.js';
import type { AuthUser } from '../auth/user.js';
import type { AppDeps } from './context.js';
import { findSet } from './context.js';
import { parseEntityBody, parseJsonLossless, readBody, requireUtf8Charset, utf8Text } from './body.js';
import { jsonContentType, negotiate, parsePrefer } from './negotiate.js';
import { handleBatch } from './batch.js';

export type WriteMethod = 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface WriteRequest {
  readonly method: WriteMethod;
  readonly path: ResourcePath;
  readonly raw: RawQuery;
  readonly urls: Urls;
  readonly user: AuthUser | undefined;
  readonly catalog: Catalog;
}

/** A write as plain data: what executeWrite needs besides the connection. */
export interface WriteInput extends WriteRequest {
  /** request header by lower-case name */
  readonly header: (name: string) => string | undefined;
  /** the body text (undefined for DELETE) */
  readonly body: string | undefined;
}

export interface Outcome {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  /** for $batch Content-ID references: the entity's path below the service root */
  readonly entityPath?: string;
}

const ALLOW_READ_ONLY = { Allow: 'GET, HEAD' };

function notAllowed(message: string, allow: string): ODataError {
  return new ODataError('MethodNotAllowed', message, { headers: { Allow: allow } });
}

/** Resource, method and permission checks shared by single writes and $batch parts. */
export function writableSet(req: WriteRequest): EntitySet {
  const { path, method } = req;
  switch (path.kind) {
    case 'metadata':
    case 'serviceDocument':
    case 'count':
      throw notAllowed(`${method} is not allowed on this resource.`, 'GET, HEAD');
    case 'batch':
      throw notAllowed('$batch accepts POST only.', 'POST');
    case 'collection':
    case 'entity':
    case 'property':
      break;
  }
  const set = findSet(req.catalog, req.user, path.set);
  if (set.readOnly) throw new ODataError('MethodNotAllowed', `${set.name} is read-only.`, { headers: ALLOW_READ_ONLY });
  if (path.kind === 'collection' && method !== 'POST') throw notAllowed(`${method} is not allowed on the collection ${set.name}; address one entity by its key.`, 'GET, HEAD, POST');
  if (path.kind === 'entity' && method === 'POST') throw notAllowed(`POST is not allowed on an entity; POST to the collection ${set.name}.`, 'GET, HEAD, PATCH, PUT, DELETE');
  if (path.kind === 'property' && method === 'POST') throw notAllowed('POST is not allowed on a property.', 'GET, HEAD, PUT, PATCH, DELETE');
  if (req.user && !req.user.canWrite(set.name)) throw new ODataError('Forbidden', `You may not modify ${set.name}.`, { target: set.name });
  return set;
}

export type ExecuteWrite = (db: ArrayQueryable, input: WriteInput) => Promise<Outcome>;

/** Runs one write on `db` (the pool, or a $batch change set's transaction). Throws ODataError on failure. */
export async function executeWrite(db: ArrayQueryable, input: WriteInput): Promise<Outcome> {
  const { method, path, urls, catalog } = input;
  const set = writableSet(input);
  const opts = queryOptions(input.raw, 'entity');
  // $select on a create or update shapes the representation returned (Protocol 11.4.2, 11.4.3); checked
  // before anything is written
  const { select, explicit } = path.kind === 'property' ? { select: set.columns, explicit: false } : planSelection(set, opts);
  const f = negotiate(input.header('accept'), opts.format, ['json']);
  const prefer = parsePrefer(input.header('prefer'));
  const ret = prefer.get('return');

  let plan: WritePlan;
  if (path.kind === 'collection') {
    const body = parseEntityBody(input.body ?? '', input.header('content-type'));
    plan = planInsert(set, validateBody(set, 'create', body, catalog.namespace));
  } else if (path.kind === 'entity' || path.kind === 'property') {
    const key = planKey(set, path.key);
    const headers: Preconditions = {
      ifMatch: parseIfMatch(input.header('if-match')),
      ifNoneMatch: parseIfMatch(input.header('if-none-match'), 'If-None-Match'),
    };
    if (path.kind === 'property') {
      // A property's own URL (OData 11.4.9): PUT/PATCH {"value": v} (or the raw value to /$value) and
      // DELETE (null) are updates of the entity with that one property.
      const col = propertyOf(set, path.property);
      if (!writable(col, 'update')) {
        const why = col.isKey ? 'part of the key' : col.computed ? 'computed by the database' : 'read-only';
        throw new ODataError('ReadOnlyProperty', `Property ${col.name} is ${why} and cannot be written.`, { target: col.name });
      }
      requireCondition(set, method, headers);
      const body = { [col.name]: method === 'DELETE' ? null : propertyValue(col, path.value, input) };
      plan = planUpdate(set, key, validateBody(set, 'update', body, catalog.namespace), false, headers);
    } else if (method === 'DELETE') {
      requireCondition(set, method, headers);
      plan = planDelete(set, key, headers);
    } else {
      const body = parseEntityBody(input.body ?? '', input.header('content-type'));
      const conditions = { ...headers, ...bodyEtag(body, input.header('odata-version')) };
      requireCondition(set, method, conditions);
      const mode = method === 'PUT' ? 'replace' : 'update';
      plan = planUpdate(set, key, validateBody(set, mode, body, catalog.namespace), mode === 'replace', conditions);
    }
  } else {
    throw new Error(`unreachable: ${path.kind}`);
  }

  // PostgreSQL builds the entity's JSON only for an answer that shows it (not a DELETE, not a 204)
  const showsEntity = path.kind === 'property' ? ret === 'representation'
    : plan.kind === 'insert' ? ret !== 'minimal' || explicit
    : plan.kind === 'update' && (ret === 'representation' || explicit);
  const q = writeSql(plan, f.ieee754, showsEntity);
  const rows = await db.queryArrays(q.text, q.values).catch((e: unknown) => {
    throw hideUnexposed(set, e);
  });
  const row = rows[0];
  if (!row) {
    if (plan.kind === 'insert') throw new Error('insert returned no row');
    const e = existsSql(set, plan.key);
    const exists = conditional(plan.conditions) && (await db.queryArrays(e.text, e.values)).length > 0;
    if (exists) {
      const c = plan.conditions;
      const failed = [
        ...(c.ifMatch !== undefined && c.ifMatch !== 'any' ? ['If-Match'] : []),
        ...(c.bodyEtag !== undefined ? ['the @odata.etag of the body'] : []),
        ...(c.ifNoneMatch !== undefined ? ['If-None-Match'] : []),
      ];
      throw new ODataError('PreconditionFailed', `The ${set.name} entity was not changed: its ETag does not satisfy ${failed.join(' and ')}.`);
    }
    throw new ODataError('EntityNotFound', `No entity of ${set.name} has this key.`);
  }

  const etag = row[1] as string;
  const keyTexts = row.slice(2, 2 + set.key.length) as string[];
  const id = entityId(set, keyTexts);
  const headers: Record<string, string> = {};
  const full = (entity: string): string => (f.metadata === 'full' ? withPropertyTypes(set, entity) : entity);
  const representation = (): string =>
    entityJson(
      contextUrl(urls, `${explicit ? selectFragment(set, select, true) : set.name}/$entity`),
      f.metadata,
      full(explicit ? projected(row[0] as string, select) : (row[0] as string)),
      entityControl(set, catalog.namespace, f, urls, keyTexts, etag, explicit && selectOmitsKey(set, select)),
    );

  if (plan.kind === 'insert') {
    headers['Location'] = urls.root + id;
    headers['ETag'] = etagValue(etag);
    if (ret === 'minimal' && !explicit) {
      headers['OData-EntityId'] = urls.root + id;
      headers['Preference-Applied'] = 'return=minimal';
      return { status: 204, headers, entityPath: id };
    }
    if (ret === 'representation') headers['Preference-Applied'] = 'return=representation';
    headers['Content-Type'] = jsonContentType(f);
    return { status: 201, headers, body: representation(), entityPath: id };
  }
  if (plan.kind === 'update') headers['ETag'] = etagValue(etag);
  if (path.kind === 'property') {
    // 204, or with return=representation the property as a single-value response
    if (ret !== 'representation') return { status: 204, headers, entityPath: id };
    headers['Preference-Applied'] = 'return=representation';
    headers['Content-Type'] = jsonContentType(f);
    const value = (parseJsonLossless(row[0] as string) as Record<string, unknown>)[path.property] ?? null;
    return { status: 200, headers, body: propertyJson(contextUrl(urls, `${id}/${path.property}`), f.metadata, stringify(value) ?? 'null'), entityPath: id };
  }
  // A return preference on DELETE "does not have any effect" (Protocol 8.2.8.7): always 204, no body.
  if (plan.kind === 'delete') return { status: 204, headers, entityPath: id };
  if (ret === 'representation' || explicit) {
    if (ret === 'representation') headers['Preference-Applied'] = 'return=representation';
    headers['Content-Type'] = jsonContentType(f);
    return { status: 200, headers, body: representation(), entityPath: id };
  }
  if (ret === 'minimal') headers['Preference-Applied'] = 'return=minimal';
  return { status: 204, headers, entityPath: id };
}

/** The entity's JSON text with only the selected properties, in their order (numbers keep their digits). */
function projected(entity: string, select: readonly Column[]): string {
  const all = parseJsonLossless(entity) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of select) out[c.name] = all[c.name] ?? null;
  return stringify(out) ?? '{}';
}

/**
 * A constraint error names the database columns at fault; a column outside the set's `columns` allow-list
 * does not exist for clients, so such an error keeps its status and code but names nothing.
 */
function hideUnexposed(set: EntitySet, e: unknown): unknown {
  if (!(e instanceof ODataError) || e.target === undefined) return e;
  const exposed = (name: string): boolean => set.columns.some((c) => c.dbName === name.trim());
  if (e.target.split(',').every(exposed)) return e;
  return new ODataError(e.code, 'The change violates a rule of the database on data that this service does not expose.');
}

/** `requireIfMatch` sets refuse updates and deletes that carry no ETag to compare (428). */
function requireCondition(set: EntitySet, method: string, c: Preconditions): void {
  if (set.requireIfMatch && c.ifMatch === undefined && c.bodyEtag === undefined) {
    throw new ODataError('PreconditionRequired', `${method} on ${set.name} requires an If-Match header with the entity's ETag (or *).`);
  }
}

/**
 * OData 4.01 (Protocol 11.4.3): an update whose body carries `@odata.etag` (or `@etag`, its 4.01 name
 * without the prefix, JSON Format 4.5) is performed only when the entity's ETag matches it (`*` matches
 * any). 4.0 requests ignore it, as they always did.
 */
function bodyEtag(body: Record<string, unknown>, version: string | undefined): Pick<Preconditions, 'bodyEtag'> {
  const name = body['@odata.etag'] !== undefined ? '@odata.etag' : '@etag';
  const v = body[name];
  if (typeof v !== 'string' || version === undefined || !/^\s*4\.(0[1-9]|[1-9])/.test(version)) return {};
  const tags = parseIfMatch(v, name);
  return tags === undefined || tags === 'any' ? {} : { bodyEtag: tags };
}

function propertyOf(set: EntitySet, name: string): Column {
  const c = set.columnsByName.get(name);
  if (!c) throw new ODataError('PropertyNotFound', `${set.name} has no property "${name.slice(0, 128)}".`, { target: name.slice(0, 128) });
  return c;
}

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const NUMERIC_EDM = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single']);

/** The new value of a property write: {"value": v} in JSON, or the raw text sent to /$value. */
function propertyValue(col: Column, raw: boolean, input: WriteInput): unknown {
  const text = input.body ?? '';
  if (raw) {
    // the raw value as its JSON counterpart, validated below like any body value
    if (NUMERIC_EDM.has(col.edm) && JSON_NUMBER.test(text.trim())) return parseJsonLossless(text.trim());
    if (col.edm === 'Edm.Boolean' && (text.trim() === 'true' || text.trim() === 'false')) return text.trim() === 'true';
    return text;
  }
  const body = parseEntityBody(text, input.header('content-type'));
  const extra = Object.keys(body).find((k) => k !== 'value' && !k.includes('@'));
  if (!Object.prototype.hasOwnProperty.call(body, 'value') || extra !== undefined) {
    throw new ODataError('InvalidBody', `Send the new value of ${col.name} as {"value": ...}${extra !== undefined ? `, without "${extra.slice(0, 64)}"` : ''}.`, { target: col.name });
  }
  return body['value'];
}

export async function handleWrite(ctx: Context, deps: AppDeps, req: WriteRequest): Promise<void> {
  if (req.path.kind === 'batch') {
    if (req.method !== 'POST') throw notAllowed('$batch accepts POST only.', 'POST');
    return handleBatch(ctx, deps, req, executeWrite);
  }
  // Refuse what cannot succeed before reading (possibly large) bodies.
  const set = writableSet(req);
  let body: string | undefined;
  if (req.method !== 'DELETE') {
    const bytes = await readBody(ctx, deps.config.server.maxBodyBytes);
    // The raw value of a binary property is its bytes (Protocol 11.4.9.2); it travels on as base64.
    const binary = req.path.kind === 'property' && req.path.value && set.columnsByName.get(req.path.property)?.edm === 'Edm.Binary';
    if (!binary) requireUtf8Charset(ctx.get('Content-Type'));
    body = binary ? bytes.toString('base64') : utf8Text(bytes);
  }
  const outcome = await executeWrite(deps.db, { ...req, body, header: (n) => ctx.get(n) || undefined });
  applyOutcome(ctx, outcome);
}

export function applyOutcome(ctx: Context, o: Outcome): void {
  ctx.status = o.status;
  for (const k in o.headers) if (k !== 'Content-Type') ctx.set(k, o.headers[k]!);
  if (o.body !== undefined) {
    ctx.body = o.body;
    ctx.type = o.headers['Content-Type'] ?? 'application/json';
  }
}
