/**
 * Middleware that authenticates every request with HTTP Basic and sets `ctx.state.user` (AuthUser).
 * With `auth.open` everyone is the all-access 'anonymous'. Otherwise a missing, wrong or expired credential
 * is a 401 carrying the `WWW-Authenticate` challenge. Failed attempts are throttled per client address
 * (src/auth/failure-throttle.ts): failed answers are held back up to 2 s, and a user name (or, with 20
 * times as many failures, a whole address) with too many failures is refused with 429 before any
 * password work. Entity-set permissions are the handlers' business
 * (user.canRead / canWrite). Logs never carry the password or the header.
 */
import type { Context, Middleware, Next } from './kernel.js';
import type { Config } from '../config/types.js';
import { ODataError } from '../errors/odata-error.js';
import { logEvent, type Logger } from '../log.js';
import { createAuthenticator, type Authenticator, type AuthFailureReason } from '../auth/authenticate.js';
import { FailureThrottle, type FailureThrottleOptions } from '../auth/failure-throttle.js';
import { anonymousUser } from '../auth/user.js';
import { parseBasic } from '../auth/basic.js';

export interface AuthMiddlewareOptions {
  readonly auth: Config['auth'];
  readonly logger: Logger;
  /** Paths served without credentials (e.g. a health check); such requests get no ctx.state.user. */
  readonly publicPaths?: (path: string) => boolean;
  /** Override the failure throttle policy (tests); or pass an instance to share it. */
  readonly throttle?: FailureThrottle | FailureThrottleOptions;
  /** Defaults to a new authenticator over auth.users (a config reload builds a new middleware). */
  readonly authenticator?: Authenticator;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

const MESSAGES = {
  missing: 'Authentication required',
  malformed: 'Invalid credentials',
  unknown_user: 'Invalid credentials',
  wrong_password: 'Invalid credentials',
  expired: 'Credential expired',
} as const satisfies Record<AuthFailureReason, string>;

/** An address is locked out, whatever the user names, at this many times the per-name lockout. */
const ADDRESS_LOCKOUT_FACTOR = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function requestId(ctx: Context): unknown {
  const s = ctx.state as Record<string, unknown>;
  return s['requestId'] ?? s['reqId'];
}

export function authMiddleware(opts: AuthMiddlewareOptions): Middleware {
  const { auth, logger, publicPaths } = opts;
  if (auth.open) {
    return async (ctx, next) => {
      ctx.state.user = anonymousUser;
      await next();
    };
  }
  const authenticate = opts.authenticator ?? createAuthenticator(auth.users);
  const throttle = opts.throttle instanceof FailureThrottle ? opts.throttle : new FailureThrottle(opts.throttle);
  const now = opts.now ?? (() => new Date());
  const challenge = { 'WWW-Authenticate': `Basic realm="${auth.realm.replace(/["\\]/g, '')}", charset="UTF-8"` };

  // Not async on the fast path (a public path, or a credential that already verified: no throttle, no
  // password work): it hands on next()'s promise and costs none of its own.
  return (ctx, next) => {
    if (publicPaths?.(ctx.path) === true) return next();
    const header = ctx.get('authorization') || undefined;
    const t = now();
    const known = authenticate.cached(header, t);
    if (known !== undefined) {
      ctx.state.user = known;
      return next();
    }
    return verify(ctx, next, header, t);
  };

  async function verify(ctx: Context, next: Next, header: string | undefined, t: Date): Promise<void> {
    const ip = ctx.ip;
    // Locked out: this user name from this address, or (20 times the failures, any names) the address.
    const parsed = parseBasic(header);
    const credentialKey = `${ip}\u0000${parsed.ok ? parsed.name : ''}`;
    let decision = throttle.check(credentialKey, t);
    if (decision.kind === 'allow') decision = throttle.check(ip, t, throttle.lockoutFailures * ADDRESS_LOCKOUT_FACTOR);
    if (decision.kind === 'refuse') {
      logEvent(logger, 'warn', 'auth.throttled', { ip, failures: decision.failures, retryAfter: decision.retryAfterSeconds, requestId: requestId(ctx) });
      throw new ODataError('TooManyRequests', 'Too many failed authentication attempts from this address; retry later', {
        headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      });
    }
    const result = await authenticate(header, t);
    if (result.ok) {
      ctx.state.user = result.user;
      await next();
      return;
    }
    const fields = { reason: result.reason, ip, user: result.userName, requestId: requestId(ctx) };
    if (result.reason === 'missing') {
      logEvent(logger, 'debug', 'auth.failed', fields);
    } else {
      const delayMs = throttle.recordFailure(ip, t);
      throttle.recordFailure(credentialKey, t);
      logEvent(logger, 'warn', result.reason === 'expired' ? 'auth.expired' : 'auth.failed', delayMs > 0 ? { ...fields, delayMs } : fields);
      if (delayMs > 0) await sleep(delayMs);
    }
    throw new ODataError('Unauthorized', MESSAGES[result.reason], { headers: challenge });
  }
}
