/**
 * Middleware that charges one request to the client's rate-limit key (one store round trip) and
 * answers 429 over the limit. The IETF RateLimit headers (RateLimit-Limit, -Remaining, -Reset in seconds,
 * RateLimit-Policy `<limit>;w=<window>`) are set BEFORE next(), so they survive errors thrown downstream
 * (the error middleware keeps headers already set) and are on every response, the 429 included.
 * Register it after authMiddleware: the key is then the user's name (see rateLimitKey). A store failure lets
 * the request through and logs `ratelimit.store_error` (once per outage, then the limiter's breaker is open).
 */
import type { Context, Middleware } from './kernel.js';
import { ODataError } from '../errors/odata-error.js';
import { logEvent, type Logger } from '../log.js';
import type { RateLimitDecision, RateLimiter } from '../ratelimit/limiter.js';

export interface RateLimitMiddlewareOptions {
  readonly limiter: RateLimiter;
  readonly logger: Logger;
  /** Default rateLimitKey: `user:<name>` when authenticated, else `ip:<addr>`. */
  readonly keyOf?: (ctx: Context) => string;
}

/** `user:<name>` for an authenticated request (ctx.state.user), `ip:<address>` otherwise. */
export function rateLimitKey(ctx: Context): string {
  const user = (ctx.state as { user?: { name?: unknown } }).user;
  return user !== undefined && typeof user.name === 'string' ? `user:${user.name}` : `ip:${ctx.ip}`;
}

/** Charges `points` requests (default one) to `key`; sets the RateLimit headers; throws 429 over the limit. */
async function charge(ctx: Context, opts: RateLimitMiddlewareOptions, key: string, points = 1): Promise<void> {
  apply(ctx, opts, key, points, await opts.limiter.consume(key, points));
}

/** Sets the RateLimit headers of a decision, logs a store failure once, and throws 429 when refused. */
function apply(ctx: Context, opts: RateLimitMiddlewareOptions, key: string, points: number, d: RateLimitDecision): void {
  const { limiter, logger } = opts;
  const limit = String(d.limit), remaining = String(d.remaining), reset = String(d.resetSeconds);
  ctx.set('RateLimit-Limit', limit);
  ctx.set('RateLimit-Remaining', remaining);
  ctx.set('RateLimit-Reset', reset);
  ctx.set('RateLimit-Policy', limiter.policy);
  if (d.degraded?.first === true) {
    logEvent(logger, 'error', 'ratelimit.store_error', { store: limiter.store, error: d.degraded.error, key });
  }
  if (!d.allowed) {
    const secs = d.retryAfterSeconds ?? d.resetSeconds;
    logEvent(logger, 'warn', 'ratelimit.rejected', { key, ...(points > 1 ? { points } : {}), user: (ctx.state as { user?: { name?: unknown } }).user?.name, limit: d.limit, retryAfter: secs, path: ctx.path });
    throw new ODataError('TooManyRequests', `Rate limit exceeded: ${d.limit} requests per ${limiter.windowSeconds} s; retry in ${secs} s`, {
      headers: { 'Retry-After': String(secs), 'RateLimit-Limit': limit, 'RateLimit-Remaining': remaining, 'RateLimit-Reset': reset, 'RateLimit-Policy': limiter.policy },
    });
  }
}

/**
 * Charges `n` more requests to the key the request was charged to, when rate limiting is on: a $batch
 * counts as many requests as it holds (the middleware charged the first). All `n` in one store call, so a
 * batch costs one round trip whatever its size. Throws 429 when they do not fit in what is left of the
 * window, before any of the batch runs.
 */
export async function chargeMore(ctx: Context, n: number): Promise<void> {
  const charger = (ctx.state as { rateLimit?: Charger }).rateLimit;
  if (charger && n > 0) await charger.charge(ctx, n);
}

interface Charger {
  charge(ctx: Context, points?: number): Promise<void>;
}

export function rateLimitMiddleware(opts: RateLimitMiddlewareOptions): Middleware {
  const keyOf = opts.keyOf ?? rateLimitKey;
  // One per middleware, referenced from each request's state (no per-request closure).
  const charger: Charger = { charge: (ctx, points) => charge(ctx, opts, keyOf(ctx), points) };
  // Not async when this instance's lease decides (nearly every request under a large limit): the charge
  // and next() then cost no promise of their own.
  return (ctx, next) => {
    const key = keyOf(ctx);
    (ctx.state as { rateLimit?: Charger }).rateLimit = charger;
    const local = opts.limiter.consumeLocally?.(key);
    if (local === undefined) return charge(ctx, opts, key).then(next);
    apply(ctx, opts, key, 1, local);
    return next();
  };
}

/**
 * Registered before authentication: a request that authentication refuses (401) is charged to the client
 * address (`ip:<addr>`), so unauthenticated floods are limited too; over the limit the 401 becomes a 429.
 * Authenticated requests are charged to their user by rateLimitMiddleware, never twice.
 */
export function unauthenticatedRateLimit(opts: RateLimitMiddlewareOptions): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      if (e instanceof ODataError && e.status === 401 && (ctx.state as { user?: unknown }).user === undefined) {
        await charge(ctx, opts, `ip:${ctx.ip}`);
      }
      throw e;
    }
  };
}
