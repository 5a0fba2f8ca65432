/**
 * $batch: multipart/mixed (OData 4.0) and JSON (4.01) batches. Each inner request goes through the same
 * code as a standalone one: reads through handleRead (rendered into an in-memory context), writes through
 * executeWrite, with the outer request's user and catalog snapshot. A change set (multipart) or an
 * atomicityGroup (JSON) runs in one read-write transaction: all of it lands or none of it does, and a
 * failure answers for the whole set. Content-ID / request-id references (`$1/...`) resolve to the entity
 * created or addressed by an earlier request. A multipart batch stops at the first failed request or
 * change set unless `Prefer: odata.continue-on-error` (Protocol 11.7.7.3); a JSON batch runs every request
 * its dependencies allow unless `continue-on-error=false` (JSON Format 19.4), and answers 424 for a request
 * whose dependency failed or whose `if` condition is false or not supported (batch-condition.ts).
 */
import type { Context } from './kernel.js';
import { ODataError } from '../errors/odata-error.js';
import { errorFields, logEvent } from '../log.js';
import { headerValue, parseJsonBatch, serializeJsonBatch, type JsonBatchRequest, type JsonBatchResponse } from '../format/batch-json.js';
import { evaluateCondition } from '../format/batch-condition.js';
import { boundaryOf, parseMultipartBatch, serializeMultipartBatch, type BatchRequestPart, type PartResponse, type ResponseUnit } from '../format/batch-multipart.js';
import type { ArrayQueryable } from '../db/pool.js';
import { addressedResource } from './entity-id.js';
import { parseQuery } from './query-cache.js';
import type { AppDeps } from './context.js';
import { mediaType, parseJsonLossless, readBody, utf8Text } from './body.js';
import { JSON_MINIMAL, parsePrefer } from './negotiate.js';
import { handleRead } from './read-handler.js';
import { chargeMore } from './ratelimit-middleware.js';
import type { ExecuteWrite, Outcome, WriteMethod, WriteRequest } from './write-handler.js';

/** One inner request, whichever format it came in. */
interface InnerRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string | undefined;
  /** Content-ID (multipart) or request id (JSON) */
  readonly id?: string;
}

interface InnerResult extends Outcome {
  readonly id?: string;
}

/** The little of the request Context (kernel.ts) that handleRead uses, rendering into memory. */
class BufferContext {
  status = 200;
  body: unknown = undefined;
  private contentType = '';
  readonly out = new Map<string, string>();
  constructor(private readonly reqHeaders: ReadonlyMap<string, string>) {}
  get(name: string): string {
    return this.reqHeaders.get(name.toLowerCase()) ?? '';
  }
  set(name: string | Record<string, string>, value?: string): void {
    if (typeof name === 'string') this.out.set(name, value ?? '');
    else for (const [k, v] of Object.entries(name)) this.out.set(k, v);
  }
  append(name: string, value: string): void {
    const prev = this.out.get(name);
    this.out.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  get type(): string {
    return this.contentType;
  }
  set type(t: string) {
    this.contentType = t;
  }
}

/** A failed request inside a change set: aborts (rolls back) the transaction. */
class ChangeSetFailed extends Error {
  constructor(readonly result: InnerResult) {
    super('change set failed');
  }
}

const SYSTEM_RESOURCES = new Set(['$metadata', '$batch', '$entity', '$root', '$id', '$crossjoin', '$all']);

/** executeWrite is passed in (not imported) so that write-handler and batch do not import each other. */
export async function handleBatch(ctx: Context, deps: AppDeps, req: WriteRequest, executeWrite: ExecuteWrite): Promise<void> {
  const ct = ctx.get('Content-Type');
  const mt = mediaType(ct);
  if (mt !== 'multipart/mixed' && mt !== 'application/json') {
    throw new ODataError('UnsupportedMediaType', '$batch takes multipart/mixed (with a boundary) or application/json.');
  }
  const text = utf8Text(await readBody(ctx, deps.config.server.maxBodyBytes));
  const prefer = parsePrefer(ctx.get('Prefer'));
  // 4.0 names it odata.continue-on-error, 4.01 continue-on-error: Preference-Applied echoes the client's name
  const coeName = prefer.has('continue-on-error') ? 'continue-on-error' : 'odata.continue-on-error';
  const coe = prefer.get(coeName);
  const continueOnError = coe !== undefined && coe.toLowerCase() !== 'false';
  const max = deps.config.batch.maxRequests;
  // Over the cap: 400. Else each inner request is charged to the client's rate limit like a request of
  // its own (the batch itself was charged as one), before any of them runs.
  const admit = async (units: readonly ({ kind: 'request' } | { kind: 'changeset'; requests: readonly unknown[] })[]): Promise<void> => {
    const n = units.reduce((sum, u) => sum + (u.kind === 'request' ? 1 : u.requests.length), 0);
    if (n > max) throw new ODataError('BadRequest', `The batch holds ${n} requests; at most ${max} are allowed.`);
    await chargeMore(ctx, n - 1);
  };
  const runner = new BatchRunner(ctx, deps, req, executeWrite);
  if (continueOnError) ctx.set('Preference-Applied', coeName);

  if (mt === 'multipart/mixed') {
    const boundary = boundaryOf(ct);
    if (!boundary) throw new ODataError('BadRequest', 'The multipart/mixed Content-Type of a $batch needs a boundary parameter.');
    const units = parseMultipartBatch(text, boundary);
    await admit(units);
    const out: ResponseUnit[] = [];
    for (const u of units) {
      const toInner = (r: BatchRequestPart): InnerRequest => ({
        method: r.method, url: r.url, headers: r.headers, body: r.body === '' ? undefined : r.body, ...(r.contentId !== undefined ? { id: r.contentId } : {}),
      });
      if (u.kind === 'request') {
        const r = await runner.run(deps.db, toInner(u.request), true);
        out.push({ kind: 'response', response: part(r) });
        if (r.status >= 400 && !continueOnError) break;
      } else {
        const res = await runner.runChangeSet(u.requests.map(toInner));
        if (res.ok) out.push({ kind: 'changeset', responses: res.results.map(part) });
        else {
          out.push({ kind: 'response', response: part(res.failure) });
          if (!continueOnError) break;
        }
      }
    }
    const { body, contentType } = serializeMultipartBatch(out);
    ctx.status = 200;
    ctx.type = contentType;
    ctx.body = body;
    return;
  }

  const units = parseJsonBatch(parseJsonLossless(text));
  await admit(units);
  // A JSON batch runs every request its dependencies allow, unless continue-on-error=false (JSON Format
  // 19.4); a multipart batch stops at the first error unless asked to continue (Protocol 11.7.7.3).
  const stopAtError = coe !== undefined && coe.toLowerCase() === 'false';
  const responses: JsonBatchResponse[] = [];
  const failed = new Set<string>();
  const succeeded = new Set<string>();
  for (const u of units) {
    const members = u.kind === 'request' ? [u.request] : u.requests;
    const group = u.kind === 'changeset' ? u.group : undefined;
    // Members of one atomicity group succeed or fail together: a condition on an earlier member holds.
    const done = (id: string): boolean => succeeded.has(id) || (group !== undefined && members.some((m) => m.id === id));
    const reason = members.map((m) => notRunReason(m, failed, done)).find((d) => d !== undefined);
    if (reason !== undefined) {
      for (const m of members) {
        failed.add(m.id);
        responses.push(jsonResponse(m.id, errorResult(new ODataError('BadRequest', `Not processed: ${reason}.`, { status: 424 })), group));
      }
      if (group !== undefined) failed.add(group);
      if (stopAtError) break;
      continue;
    }
    if (u.kind === 'request') {
      const r = await runner.run(deps.db, { ...u.request, id: u.request.id }, true);
      responses.push(jsonResponse(u.request.id, r));
      if (r.status >= 200 && r.status < 300) succeeded.add(u.request.id);
      if (r.status >= 400) {
        failed.add(u.request.id);
        if (stopAtError) break;
      }
      continue;
    }
    const res = await runner.runChangeSet(u.requests.map((r) => ({ ...r, id: r.id })));
    if (res.ok) {
      res.results.forEach((r, i) => responses.push(jsonResponse(u.requests[i]!.id, r, u.group)));
      for (const m of u.requests) succeeded.add(m.id);
      succeeded.add(u.group);
      continue;
    }
    failed.add(u.group);
    for (const m of u.requests) {
      failed.add(m.id);
      const r = m.id === res.failure.id ? res.failure : errorResult(new ODataError('BadRequest', `Rolled back: request ${res.failure.id ?? '?'} of atomicity group ${u.group} failed.`, { status: 424 }));
      responses.push(jsonResponse(m.id, r, u.group));
    }
    if (stopAtError) break;
  }
  ctx.status = 200;
  ctx.type = JSON_MINIMAL;
  ctx.body = serializeJsonBatch(responses);
}

/**
 * Why a JSON batch request is not run (answered 424), or undefined when it runs: its `if` condition is
 * false or outside what this service evaluates; without one, a request or group it depends on failed.
 */
function notRunReason(m: JsonBatchRequest, failed: ReadonlySet<string>, succeeded: (id: string) => boolean): string | undefined {
  if (m.condition !== undefined) {
    const text = JSON.stringify(m.condition.text.slice(0, 200));
    if (m.condition.parsed === undefined) {
      return `request ${m.id} has the "if" condition ${text}, and this service evaluates only $<id>/$succeeded, true and false combined with not, and, or and parentheses`;
    }
    return evaluateCondition(m.condition.parsed, succeeded) ? undefined : `the "if" condition ${text} of request ${m.id} is false`;
  }
  const bad = m.dependsOn.find((d) => failed.has(d));
  return bad === undefined ? undefined : `request ${bad} it depends on failed`;
}

function part(r: InnerResult): PartResponse {
  return { status: r.status, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}), ...(r.id !== undefined ? { contentId: r.id } : {}) };
}

function jsonResponse(id: string, r: InnerResult, group?: string): JsonBatchResponse {
  return { id, status: r.status, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}), ...(group !== undefined ? { atomicityGroup: group } : {}) };
}

function errorResult(e: ODataError, id?: string): InnerResult {
  return { status: e.status, headers: { ...(e.headers ?? {}), 'Content-Type': JSON_MINIMAL }, body: JSON.stringify(e.toJSON()), ...(id !== undefined ? { id } : {}) };
}

class BatchRunner {
  /** Content-ID / request id -> entity path below the service root */
  private readonly refs = new Map<string, string>();
  /** Content-ID / request id -> the ETag its response carried (for `If-Match: $1`, Protocol 11.7.5) */
  private readonly etags = new Map<string, string>();
  /**
   * Bytes the batch response may still take: the whole batch is held to the server's response cap
   * (server.maxResponseBytes), not each inner read to it. Inner collection reads are paged under what is
   * left (each page still holds at least one entity, with a nextLink to the rest), so 100 reads of large
   * pages cannot build a response of 100 times the cap in memory.
   */
  private budget: number;
  constructor(
    private readonly ctx: Context,
    private readonly deps: AppDeps,
    private readonly outer: WriteRequest,
    private readonly executeWrite: ExecuteWrite,
  ) {
    this.budget = deps.config.server.maxResponseBytes;
  }

  async runChangeSet(requests: readonly InnerRequest[]): Promise<{ ok: true; results: InnerResult[] } | { ok: false; failure: InnerResult }> {
    try {
      const results = await this.deps.db.transaction('read write', async (tx) => {
        const out: InnerResult[] = [];
        for (const r of requests) {
          const res = await this.run(tx, r, false);
          if (res.status >= 400) throw new ChangeSetFailed(res);
          out.push(res);
        }
        return out;
      });
      return { ok: true, results };
    } catch (e) {
      // References into a rolled-back change set must not resolve later.
      for (const r of requests) {
        if (r.id === undefined) continue;
        this.refs.delete(r.id);
        this.etags.delete(r.id);
      }
      if (e instanceof ChangeSetFailed) return { ok: false, failure: e.result };
      return { ok: false, failure: this.errorOf(e, requests[requests.length - 1]?.id) };
    }
  }

  private errorOf(e: unknown, id: string | undefined): InnerResult {
    if (e instanceof ODataError) return errorResult(e, id);
    logEvent(this.deps.logger, 'error', 'request.failed', { requestId: this.ctx.state['requestId'], batchPart: id, err: errorFields(e) });
    return errorResult(new ODataError('Internal', `An internal error occurred; quote request id ${String(this.ctx.state['requestId'])} to the administrator.`), id);
  }

  /** Resolves an inner URL to the path below the service root and the query string. */
  private resolve(url: string): { rest: string; query: string } {
    let u = url;
    const ref = /^\$([^/?(]+)(.*)$/s.exec(u);
    if (ref && !SYSTEM_RESOURCES.has(`$${ref[1]}`)) {
      const target = this.refs.get(ref[1]!);
      if (target === undefined) throw new ODataError('BadRequest', `The reference $${ref[1]!.slice(0, 50)} does not name an earlier request that created or addressed an entity.`);
      u = target + ref[2]!;
    }
    const root = this.outer.urls.root;
    if (/^[a-z][a-z0-9+.-]*:/i.test(u)) {
      if (!u.startsWith(root)) throw new ODataError('BadRequest', `The request URL ${u.slice(0, 200)} is not under the service root ${root}.`);
      u = u.slice(root.length);
    } else if (u.startsWith('/')) {
      const rootPath = this.deps.config.server.rootPath;
      if (!u.startsWith(`${rootPath}/`)) throw new ODataError('BadRequest', `The request URL ${u.slice(0, 200)} is not under the service root ${rootPath}/.`);
      u = u.slice(rootPath.length + 1);
    }
    const q = u.indexOf('?');
    return q < 0 ? { rest: u, query: '' } : { rest: u.slice(0, q), query: u.slice(q + 1) };
  }

  async run(db: ArrayQueryable, r: InnerRequest, readsAllowed: boolean): Promise<InnerResult> {
    let out: InnerResult;
    try {
      const res = await this.dispatch(db, r, readsAllowed);
      if (r.id !== undefined && res.entityPath !== undefined) this.refs.set(r.id, res.entityPath);
      const etag = res.status < 300 ? headerValue(res.headers, 'etag') : undefined;
      if (r.id !== undefined && etag !== undefined) this.etags.set(r.id, etag);
      out = { ...res, ...(r.id !== undefined ? { id: r.id } : {}) };
    } catch (e) {
      out = this.errorOf(e, r.id);
    }
    if (out.body !== undefined) this.budget -= Buffer.byteLength(out.body);
    return out;
  }

  /**
   * `If-Match: $1` / `If-None-Match: $1`: the unquoted request id of an earlier request stands for the ETag
   * of its response (Protocol 11.7.5). An id that names no earlier response with an ETag is a bad request.
   */
  private withEtagRefs(headers: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
    let out: Map<string, string> | undefined;
    for (const name of ['if-match', 'if-none-match']) {
      const ref = /^\s*\$([^\s,"]+)\s*$/.exec(headers.get(name) ?? '');
      if (!ref) continue;
      const etag = this.etags.get(ref[1]!);
      if (etag === undefined) throw new ODataError('BadRequest', `The ${name} value $${ref[1]!.slice(0, 50)} does not name an earlier request of this batch whose response carried an ETag.`);
      (out ??= new Map(headers)).set(name, etag);
    }
    return out ?? headers;
  }

  private async dispatch(db: ArrayQueryable, r0: InnerRequest, readsAllowed: boolean): Promise<Outcome> {
    const r = { ...r0, headers: this.withEtagRefs(r0.headers) };
    const { rest, query } = this.resolve(r.url);
    const { user, catalog, urls } = this.outer;
    const method = r.method === 'MERGE' ? 'PATCH' : r.method;
    const { path, raw } = addressedResource(rest, method, parseQuery(query), urls.root, catalog, user);
    if (path.kind === 'batch') throw new ODataError('BadRequest', 'A $batch request cannot contain another $batch.');
    if (method === 'GET' || method === 'HEAD') {
      if (!readsAllowed) throw new ODataError('BadRequest', 'A change set may contain only POST, PATCH, PUT and DELETE requests.');
      const fake = new BufferContext(r.headers);
      await handleRead(fake as unknown as Context, this.deps, { path, raw, urls, user, catalog, maxResponseBytes: this.budget });
      const headers: Record<string, string> = Object.fromEntries(fake.out);
      if (fake.type) headers['Content-Type'] = fake.type;
      const body = fake.body === undefined || fake.body === null || method === 'HEAD' ? undefined : Buffer.isBuffer(fake.body) ? fake.body : String(fake.body);
      return { status: fake.status, headers, ...(body !== undefined ? { body } : {}) };
    }
    if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT' && method !== 'DELETE') {
      throw new ODataError('MethodNotAllowed', `Method ${r.method.slice(0, 20)} is not allowed in a batch.`, { headers: { Allow: 'GET, HEAD, POST, PATCH, PUT, DELETE' } });
    }
    return this.executeWrite(db, {
      method: method as WriteMethod,
      path,
      raw,
      urls,
      user,
      catalog,
      header: (n) => r.headers.get(n.toLowerCase()),
      body: method === 'DELETE' ? undefined : r.body,
    });
  }
}
