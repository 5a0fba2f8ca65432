/**
 * The HTTP layer under our middleware, in place of Koa: a per-request Context with the part of Koa's
 * context this server uses (request headers, path, query string, host, protocol, client address, state,
 * status, body, response headers), a middleware chain run in order with `next`, and the response
 * written from status and body with Koa's rules (204/205/304 and HEAD carry no body, a missing type is
 * guessed from the body, Content-Length from its bytes). Koa, context objects, `on-finished` listeners and
 * getter delegation cost ~12 us of CPU per request, a twentieth of a write (docs/decisions.md).
 * Response headers go straight to Node's ServerResponse. URL parsing is `parseurl` and Content-Type
 * charsets are `mime-types`, the libraries Koa itself used, so paths and headers are what they were.
 */
import http, { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import mimeTypes from 'mime-types';
import parseurl from 'parseurl';

export type Next = () => Promise<void>;
export type Middleware = (ctx: Context, next: Next) => Promise<unknown> | unknown;

export interface KernelOptions {
  /** Behind a trusted proxy: X-Forwarded-Host, -Proto and the right-most X-Forwarded-For entry count. */
  readonly proxy?: boolean;
  /** Errors that escaped every middleware (the answer is a bare 500). */
  readonly onError?: (e: unknown) => void;
}

/** Statuses whose answers have no body (Koa's `statuses.empty`). */
const EMPTY = new Set([204, 205, 304]);

/**
 * `mime-types` for each distinct type set: a handful, the server's own media types. A $batch answer's
 * type carries a boundary of its own and is computed each time, so it takes no place here.
 */
const fullTypes = new Map<string, string>();
function fullType(type: string): string {
  let full = fullTypes.get(type);
  if (full === undefined) {
    full = mimeTypes.contentType(type) || '';
    if (fullTypes.size < 256 && !type.includes('boundary=')) fullTypes.set(type, full);
  }
  return full;
}

/** The first of comma-separated values (X-Forwarded-Host: a, b), trimmed. */
function firstOf(v: string): string {
  const comma = v.indexOf(',');
  return (comma < 0 ? v : v.slice(0, comma)).trim();
}

export class Context {
  readonly state: Record<string, unknown> & { user?: unknown } = {};
  readonly originalUrl: string;
  private bodyValue: unknown = undefined;
  private explicitStatus = false;
  private ipValue: string | undefined;

  constructor(readonly req: IncomingMessage, readonly res: ServerResponse, private readonly proxy: boolean) {
    this.originalUrl = req.url ?? '';
    res.statusCode = 404;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get path(): string {
    return parseurl(this.req)?.pathname ?? '';
  }
  get querystring(): string {
    const q = parseurl(this.req)?.query;
    return typeof q === 'string' ? q : '';
  }

  /** A request header ('' when absent), as Koa's ctx.get. */
  get(name: string): string {
    const n = name.toLowerCase();
    const h = this.req.headers;
    const v = n === 'referer' || n === 'referrer' ? h.referrer ?? h.referer : h[n];
    return (typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : '') || '';
  }

  get host(): string {
    const host = (this.proxy && this.get('X-Forwarded-Host')) || this.get('Host');
    return host ? firstOf(host) : '';
  }
  get protocol(): string {
    if ((this.req.socket as { encrypted?: boolean }).encrypted) return 'https';
    if (!this.proxy) return 'http';
    const proto = this.get('X-Forwarded-Proto');
    return proto ? firstOf(proto) : 'http';
  }
  /** The client address: the right-most X-Forwarded-For entry behind a trusted proxy. */
  get ip(): string {
    if (this.ipValue === undefined) {
      const fwd = this.proxy ? this.get('X-Forwarded-For') : '';
      const last = fwd ? fwd.split(',').map((s) => s.trim()).at(-1) : undefined;
      this.ipValue = last || this.req.socket.remoteAddress || '';
    }
    return this.ipValue;
  }

  get status(): number {
    return this.res.statusCode;
  }
  set status(code: number) {
    if (this.res.headersSent) return;
    if (!Number.isInteger(code) || code < 100 || code > 999) throw new Error(`invalid status code: ${code}`);
    this.explicitStatus = true;
    this.res.statusCode = code;
  }

  get body(): unknown {
    return this.bodyValue;
  }
  /** A string, a Buffer, or a value sent as JSON; setting one makes an unset status 200. */
  set body(value: unknown) {
    this.bodyValue = value;
    if (value !== undefined && value !== null && !this.explicitStatus) this.res.statusCode = 200;
  }

  /** Sets Content-Type; a bare type gets its charset as Koa's `ctx.type` did (`application/json; charset=utf-8`). */
  set type(type: string) {
    const full = type ? fullType(type) : '';
    if (full) this.set('Content-Type', full);
    else this.remove('Content-Type');
  }

  set(name: string | Record<string, string>, value?: string | readonly string[]): void {
    if (this.res.headersSent) return;
    if (typeof name !== 'string') {
      for (const k of Object.keys(name)) this.res.setHeader(k, name[k]!);
      return;
    }
    this.res.setHeader(name, typeof value === 'string' ? value : Array.isArray(value) ? value.map(String) : String(value));
  }
  /** Adds a header line after those already set under this name. */
  append(name: string, value: string): void {
    const prev = this.res.getHeader(name);
    if (prev === undefined) return this.set(name, value);
    this.set(name, [...(Array.isArray(prev) ? prev : [String(prev)]), value]);
  }
  remove(name: string): void {
    if (!this.res.headersSent) this.res.removeHeader(name);
  }
  /** A response header already set ('' when none). */
  responseHeader(name: string): string {
    const v = this.res.getHeader(name);
    return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
  }
}

/** Writes the answer from ctx.status and ctx.body (Koa's respond()). */
function respond(ctx: Context): void {
  const res = ctx.res;
  if (res.writableEnded) return;
  if (res.socket && !res.socket.writable) {
    res.end();
    return;
  }
  const code = res.statusCode;
  if (EMPTY.has(code)) {
    ctx.remove('Content-Type');
    ctx.remove('Content-Length');
    ctx.remove('Transfer-Encoding');
    res.end();
    return;
  }
  let body = ctx.body;
  const head = ctx.method === 'HEAD';
  if (body === undefined || body === null) {
    if (head) {
      res.end();
      return;
    }
    body = STATUS_CODES[code] ?? String(code);
    ctx.type = 'text/plain';
  } else if (typeof body === 'string') {
    if (!res.hasHeader('Content-Type')) ctx.type = /^\s*</.test(body) ? 'text/html' : 'text/plain';
  } else if (Buffer.isBuffer(body)) {
    if (!res.hasHeader('Content-Type')) ctx.type = 'application/octet-stream';
  } else {
    body = JSON.stringify(body);
    if (!/\bjson\b/i.test(ctx.responseHeader('Content-Type'))) ctx.type = 'application/json';
  }
  const bytes = body as string | Buffer;
  if (!res.headersSent && !res.hasHeader('Transfer-Encoding')) res.setHeader('Content-Length', typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length);
  if (head) res.end();
  else res.end(bytes);
}

/** The last resort for an error that escaped every middleware: a bare 500, as Koa's ctx.onerror. */
function failed(ctx: Context, e: unknown, onError: ((e: unknown) => void) | undefined): void {
  onError?.(e);
  const res = ctx.res;
  if (res.headersSent || res.writableEnded || (res.socket && !res.socket.writable)) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const msg = STATUS_CODES[500]!;
  res.statusCode = 500;
  res.setHeader('Content-Type', fullType('text/plain'));
  res.setHeader('Content-Length', Buffer.byteLength(msg));
  res.end(msg);
}

export class App {
  private readonly middleware: Middleware[] = [];
  constructor(private readonly options: KernelOptions = {}) {}

  use(mw: Middleware): this {
    this.middleware.push(mw);
    return this;
  }

  /** The request listener for node:http. */
  callback(): (req: IncomingMessage, res: ServerResponse) => void {
    const chain = this.middleware.slice();
    const proxy = this.options.proxy === true;
    const onError = this.options.onError;
    const run = (ctx: Context, i: number): Promise<unknown> => {
      const mw = chain[i];
      if (mw === undefined) return Promise.resolve();
      try {
        return Promise.resolve(mw(ctx, () => run(ctx, i + 1) as Promise<void>));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    return (req, res) => {
      const ctx = new Context(req, res, proxy);
      run(ctx, 0).then(
        () => {
          try {
            respond(ctx);
          } catch (e) {
            failed(ctx, e, onError);
          }
        },
        (e: unknown) => failed(ctx, e, onError),
      );
    };
  }

  /** A server of its own (tests): `http.createServer(app.callback()).listen(...)`. */
  listen(port: number, host: string): http.Server {
    return http.createServer(this.callback()).listen(port, host);
  }
}
