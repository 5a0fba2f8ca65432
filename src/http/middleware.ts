/**
 * The outer middleware every request passes: request id and completion log, OData-Version negotiation,
 * the error renderer (OData error bodies; unknown errors masked as 500 and logged), and the caps on URL length and header size.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from './kernel.js';
import { ODataError } from '../errors/odata-error.js';
import { errorFields, logEvent, type Logger } from '../log.js';
import { JSON_MINIMAL, refuseSnapshotIsolation, responseVersion } from './negotiate.js';

export function requestLog(logger: Logger, slowMs: number): Middleware {
  return async (ctx: Context, next: Next) => {
    const started = performance.now(); // a double: no BigInt per request
    const incoming = ctx.get('X-Request-ID');
    const id = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state['requestId'] = id;
    ctx.set('X-Request-ID', id);
    try {
      await next();
    } finally {
      const ms = performance.now() - started;
      const slow = ms >= slowMs;
      if (slow || logger.isLevelEnabled('debug')) {
        const user = (ctx.state as { user?: { name: string } }).user?.name;
        const fields = { requestId: id, method: ctx.method, path: ctx.path.slice(0, 300), status: ctx.status, ms: Math.round(ms * 10) / 10, ...(user ? { user } : {}) };
        if (slow) logEvent(logger, 'warn', 'query.slow', fields);
        else logEvent(logger, 'debug', 'request.completed', fields);
      }
    }
  };
}

export function errorRenderer(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    let version: '4.0' | '4.01' = '4.0';
    try {
      version = responseVersion(ctx.headers);
      ctx.set('OData-Version', version);
      refuseSnapshotIsolation(ctx.headers);
      await next();
    } catch (e) {
      ctx.set('OData-Version', version);
      let err: ODataError;
      if (e instanceof ODataError) err = e;
      else if (isHttpClientError(e)) err = new ODataError(clientErrorCode(e.status), e.expose ? e.message : 'Bad request.', { status: e.status });
      else {
        logEvent(logger, 'error', 'request.failed', { requestId: ctx.state['requestId'], err: errorFields(e) });
        err = new ODataError('Internal', `An internal error occurred; quote request id ${String(ctx.state['requestId'])} to the administrator.`);
      }
      ctx.status = err.status;
      if (err.headers) ctx.set(err.headers as Record<string, string>);
      ctx.remove('ETag');
      ctx.type = JSON_MINIMAL;
      ctx.body = JSON.stringify(err.toJSON());
    }
  };
}

/** An error of a library that carries its own 4xx status (`http-errors` style). */
interface HttpClientError {
  status: number;
  expose: boolean;
  message: string;
}
function isHttpClientError(e: unknown): e is HttpClientError {
  const s = (e as { status?: unknown }).status;
  return typeof s === 'number' && s >= 400 && s < 500;
}
function clientErrorCode(status: number): ODataError['code'] {
  if (status === 413) return 'PayloadTooLarge';
  if (status === 415) return 'UnsupportedMediaType';
  return 'BadRequest';
}

/** Header fields beyond this many bytes are refused (Node's parser admits a larger head, for long URLs). */
const MAX_HEADER_BYTES = 64 * 1024;

export function requestHeadLimits(maxUrlLength: number): Middleware {
  // Not async: a layer that only checks before next() hands on next()'s promise (a throw here is turned
  // into a rejection by the kernel), so it costs no promise of its own.
  return (ctx: Context, next: Next) => {
    if (ctx.originalUrl.length > maxUrlLength) {
      throw new ODataError('UriTooLong', `The URL is longer than ${maxUrlLength} characters; send long queries in a $batch request.`);
    }
    const raw = ctx.req.rawHeaders;
    let bytes = 0;
    for (let i = 0; i < raw.length; i++) bytes += raw[i]!.length + 2;
    if (bytes > MAX_HEADER_BYTES) throw new ODataError('HeadersTooLarge', `The request's header fields exceed ${MAX_HEADER_BYTES / 1024} KB.`);
    return next();
  };
}
