/**
 * The application (kernel.ts): middleware in order (log, errors + version, URL cap, auth, rate limit), then the
 * routes: /healthz, and everything under the service root dispatched by our own OData path parser to the
 * read or write handler. Writes tunnelled as POST + X-HTTP-Method are treated as that method.
 */
import { App, type Context } from './kernel.js';
import type { AppDeps } from './context.js';
import { requireCatalog } from './context.js';
import { errorRenderer, requestLog, requestHeadLimits } from './middleware.js';
import { authMiddleware } from './auth-middleware.js';
import { rateLimitMiddleware, unauthenticatedRateLimit } from './ratelimit-middleware.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import { ODataError } from '../errors/odata-error.js';
import { errorFields, logEvent } from '../log.js';
import { parseQuery } from './query-cache.js';
import { handleRead } from './read-handler.js';
import { handleWrite } from './write-handler.js';
import { addressedResource } from './entity-id.js';
import type { AuthUser } from '../auth/user.js';

export interface AppOptions {
  readonly limiter?: RateLimiter;
}

const READ_METHODS = new Set(['GET', 'HEAD']);
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE', 'MERGE']);

const VALID_HOST = /^(?:[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

export function serviceRootUrl(ctx: Context, deps: AppDeps): string {
  if (deps.config.server.publicUrl) return `${deps.config.server.publicUrl}/`;
  const host = ctx.host || `localhost:${deps.config.server.port}`;
  // The Host header ends up in every link the client follows (context, nextLink, Location): a value
  // that is not a host name or address with an optional port is refused rather than echoed.
  if (!VALID_HOST.test(host)) throw new ODataError('BadRequest', 'The Host header is not a valid host name.');
  return `${ctx.protocol}://${host}${deps.config.server.rootPath}/`;
}

export function createApp(deps: AppDeps, opts: AppOptions = {}): App {
  // Behind a proxy, the client address is the right-most X-Forwarded-For entry (the one the proxy
  // appended): entries to its left come from the client, which could name any address.
  // Errors are rendered by errorRenderer; the kernel's last resort only sees what escapes it (nothing should).
  const app = new App({
    proxy: deps.config.server.trustProxy,
    onError: (e) => logEvent(deps.logger, 'error', 'request.failed', { err: errorFields(e) }),
  });
  const root = deps.config.server.rootPath;
  // GET/HEAD /healthz, before authentication. (A router for this one path allocated ~5% of a page
  // request's garbage on every request; a comparison does not.)
  const healthz = async (ctx: Context): Promise<void> => {
    try {
      await deps.db.query('select 1');
      ctx.body = { status: deps.catalog.current ? 'ok' : 'starting' };
      ctx.status = deps.catalog.current ? 200 : 503;
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'database unavailable' };
    }
  };

  app.use(requestLog(deps.logger, deps.config.log.slowQueryMs));
  app.use(errorRenderer(deps.logger));
  app.use(requestHeadLimits(deps.config.server.maxUrlLength));
  app.use((ctx, next) => (ctx.path === '/healthz' && (ctx.method === 'GET' || ctx.method === 'HEAD') ? healthz(ctx) : next()));
  if (opts.limiter) app.use(unauthenticatedRateLimit({ limiter: opts.limiter, logger: deps.logger }));
  app.use(authMiddleware({ auth: deps.config.auth, logger: deps.logger, publicPaths: (p) => p === '/healthz' }));
  if (opts.limiter) app.use(rateLimitMiddleware({ limiter: opts.limiter, logger: deps.logger }));

  app.use(async (ctx) => {
    const path = ctx.path;
    if (path !== root && !path.startsWith(`${root}/`)) {
      throw new ODataError('NotFound', `Nothing is served at ${path.slice(0, 200)}; the service root is ${root}/.`);
    }
    const rest = path === root ? '' : path.slice(root.length + 1);
    let method = ctx.method.toUpperCase();
    const tunnel = ctx.get('X-HTTP-Method');
    if (method === 'POST' && tunnel) {
      const t = tunnel.trim().toUpperCase();
      if (!['PATCH', 'PUT', 'MERGE', 'DELETE'].includes(t)) throw new ODataError('BadRequest', `X-HTTP-Method ${tunnel.slice(0, 20)} is not supported.`);
      method = t === 'MERGE' ? 'PATCH' : t;
    }
    if (method === 'MERGE') method = 'PATCH';
    const catalog = requireCatalog(deps.catalog);
    const user = (ctx.state as { user?: AuthUser }).user;
    const urls = { root: serviceRootUrl(ctx, deps) };
    const { path: resource, raw } = addressedResource(rest, method, parseQuery(ctx.querystring), urls.root, catalog, user);
    if (READ_METHODS.has(method)) return handleRead(ctx, deps, { path: resource, raw, urls, user, catalog });
    if (WRITE_METHODS.has(method)) return handleWrite(ctx, deps, { method: method as 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: resource, raw, urls, user, catalog });
    throw new ODataError('MethodNotAllowed', `Method ${ctx.method} is not allowed here.`, { headers: { Allow: 'GET, HEAD, POST, PATCH, PUT, DELETE' } });
  });
  return app;
}
