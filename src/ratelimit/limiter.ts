/**
 * Per-client rate limiting with counters shared by every server instance, built on rate-limiter-flexible
 * (we do not write the algorithm). Store: PostgreSQL by default (table odata_server.rate_limits, created
 * if missing), Redis through ioredis when `redisUrl` is set, or process memory when neither is given
 * (tests, a single local instance).
 *
 * Policy (see docs/decisions.md "Rate limiting"):
 *  - burst = 0: a fixed window of `points` requests per `windowSeconds` (Heroku's "20,000 per hour").
 *  - burst > 0: an approximation of a token bucket with rate points/windowSeconds and depth `burst`:
 *    the rate is enforced over short sub-windows (60 s, or the whole window when it is shorter), and a
 *    BurstyRateLimiter lets up to `burst` extra requests per `windowSeconds` through when a sub-window is
 *    used up. The headers then describe the sub-window.
 * Over-limit keys are also blocked in this process's memory until their window ends, so a client hammering
 * past its limit costs no store round trip; an allowed request costs exactly one.
 *
 * Store failure (database or Redis down, or slower than `storeTimeoutMs`): fail OPEN. The request is
 * allowed, `degraded` is set, the caller logs `ratelimit.store_error`, and for `storeRetryMs` afterwards
 * the store is not asked at all (a short circuit breaker, so an outage adds no latency per request).
 * Availability of the data service matters more than exact accounting for a few seconds.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Requests allowed per window (the sub-window when burst > 0). */
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the current window resets. */
  readonly resetSeconds: number;
  /** Set when not allowed: seconds after which a retry can succeed (>= 1). */
  readonly retryAfterSeconds?: number;
  /** Set when the store failed and the request was let through unchecked. */
  readonly degraded?: { readonly error: string; readonly first: boolean };
}

export interface RateLimiter {
  /** Charges `points` (default 1) to the key at once: a $batch of n requests is one call of n points. */
  consume(key: string, points?: number): Promise<RateLimitDecision>;
  /**
   * The same charge when it needs no store round trip (a point of this instance's lease, or the store's
   * circuit breaker open), decided at once; undefined when only consume() can decide.
   */
  consumeLocally?(key: string, points?: number): RateLimitDecision | undefined;
  /** `<limit>;w=<window seconds>` for the RateLimit-Policy header. */
  readonly policy: string;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly store: 'postgres' | 'redis' | 'memory';
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  readonly points: number;
  readonly windowSeconds: number;
  readonly burst: number;
  /** Non-empty: Redis store (ioredis). */
  readonly redisUrl: string;
  /** PostgreSQL store when redisUrl is empty: a Db (its .pool is used) or a pg Pool. Neither: memory. */
  readonly db?: { readonly pool: pg.Pool } | pg.Pool;
  /** Distinguishes limiters sharing a store (tests, several services). Default 'rl'. */
  readonly keyPrefix?: string;
  /** PostgreSQL schema and table of the counters. Default odata_server.rate_limits. */
  readonly schemaName?: string;
  readonly tableName?: string;
  /** A store call slower than this counts as a failure. Default 1000 ms. */
  readonly storeTimeoutMs?: number;
  /** After a store failure, skip the store for this long. Default 5000 ms. */
  readonly storeRetryMs?: number;
}

const SUB_WINDOW_SECONDS = 60;
/** rate-limiter-flexible's PostgreSQL table keys are varchar(255). */
const MAX_KEY = 200;

class StoreTimeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`rate-limit store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function safeKey(key: string): string {
  return key.length <= MAX_KEY ? key : `sha256:${createHash('sha256').update(key).digest('base64')}`;
}

function isPool(x: { readonly pool: pg.Pool } | pg.Pool): x is pg.Pool {
  return typeof (x as pg.Pool).connect === 'function' && typeof (x as pg.Pool).totalCount === 'number';
}

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

/**
 * Creates the schema and the counters table (the layout rate-limiter-flexible expects). Instances booting
 * together race on CREATE ... IF NOT EXISTS (PostgreSQL then fails with 23505 or 42710), so the DDL runs
 * under a transaction-scoped advisory lock, and the library is told the table exists.
 */
async function ensureTable(pool: pg.Pool, schema: string, table: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.${table}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q(schema)}.${q(table)} (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`,
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

interface Lease {
  tokens: number;
  storeRemaining: number;
  expiresAt: number;
}

export async function createRateLimiter(opts: RateLimiterOptions): Promise<RateLimiter> {
  const prefix = opts.keyPrefix ?? 'rl';
  const timeoutMs = opts.storeTimeoutMs ?? 1000;
  const retryMs = opts.storeRetryMs ?? 5000;
  const bursty = opts.burst > 0;
  const window = bursty ? Math.min(SUB_WINDOW_SECONDS, opts.windowSeconds) : opts.windowSeconds;
  const limit = bursty ? Math.max(1, Math.ceil((opts.points * window) / opts.windowSeconds)) : opts.points;

  // Each main-window key is blocked in memory once over its limit, until its window ends.
  const main = { points: limit, duration: window, keyPrefix: prefix, inMemoryBlockOnConsumed: limit + 1 };
  const extra = { points: opts.burst, duration: opts.windowSeconds, keyPrefix: `${prefix}-burst`, inMemoryBlockOnConsumed: opts.burst + 1 };

  let store: RateLimiter['store'];
  let closeStore: () => Promise<void> = async () => undefined;
  let make: (o: typeof main) => Promise<RateLimiterAbstract>;
  if (opts.redisUrl !== '') {
    store = 'redis';
    // Imported only when used: ioredis adds ~20 MB to the resident size of every instance.
    const { Redis } = await import('ioredis');
    const redis = new Redis(opts.redisUrl, {
      // Fail fast when Redis is away instead of queueing commands (we fail open instead).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    redis.on('error', () => undefined); // reported per request as ratelimit.store_error
    await redis.connect();
    closeStore = async () => {
      await redis.quit().catch(() => redis.disconnect());
    };
    make = async (o) => new RateLimiterRedis({ ...o, storeClient: redis, rejectIfRedisNotReady: true });
  } else if (opts.db !== undefined) {
    store = 'postgres';
    const pool = isPool(opts.db) ? opts.db : opts.db.pool;
    const schemaName = opts.schemaName ?? 'odata_server';
    const tableName = opts.tableName ?? 'rate_limits';
    await ensureTable(pool, schemaName, tableName);
    make = async (o) => new RateLimiterPostgres({ ...o, storeClient: pool, storeType: 'pool', schemaName, tableName, tableCreated: true });
  } else {
    store = 'memory';
    make = async (o) => new RateLimiterMemory({ points: o.points, duration: o.duration, keyPrefix: o.keyPrefix });
  }

  const mainLimiter = await make(main);
  const burstLimiter = bursty ? await make(extra) : undefined;
  const limiter: Pick<RateLimiterAbstract, 'consume'> = burstLimiter ? new BurstyRateLimiter(mainLimiter, burstLimiter) : mainLimiter;
  // A refused charge of several points (a $batch) is handed back: the batch did not run, so it must not
  // use up what is left of the window (single requests keep the store's usual counting of refusals).
  const refund = async (key: string, points: number): Promise<void> => {
    await Promise.all(
      [mainLimiter, ...(burstLimiter ? [burstLimiter] : [])].map(async (l) => {
        await withTimeout(l.reward(key, points), timeoutMs).catch(() => undefined);
        // the overshoot also blocked the key in this process's memory (inMemoryBlockOnConsumed); lift it
        (l as unknown as { _inMemoryBlockedKeys?: { delete(k: string): void } })._inMemoryBlockedKeys?.delete(l.getKey(key));
      }),
    );
  };

  let storeDownUntil = 0;

  // Leases: with a large limit, each instance takes points from the shared store in blocks of 0.1% of the
  // limit and spends them locally, so the store is asked once per block instead of once per request
  // (one round trip on a hot row per request capped a key lookup at a tenth of the floor's rate).
  // Limits under 2,000 lease single points, so small limits stay exact across instances; near the end of
  // a window (store remaining under four blocks) leases shrink to single points too.
  const leaseSize = Math.max(1, Math.floor(limit / 1000));
  const leases = new Map<string, Lease>();
  const inflight = new Map<string, Promise<RateLimitDecision>>();

  const fromStore = async (key: string, nowMs: number, points: number): Promise<RateLimitDecision> => {
    const prev = leases.get(key);
    const live = prev !== undefined && prev.expiresAt > nowMs;
    // Points already leased and still valid are paid for in the store: spend them first.
    const held = live ? Math.min(prev.tokens, points) : 0;
    const need = points - held;
    const lease = leaseSize > 1 && (!live || prev.storeRemaining >= leaseSize * 4);
    const want = lease ? Math.max(leaseSize, need) : need;
    try {
      const res = await withTimeout(limiter.consume(safeKey(key), want), timeoutMs);
      const expiresAt = Date.now() + res.msBeforeNext;
      const tokens = want - need + (live ? prev.tokens - held : 0);
      if (leaseSize > 1) {
        if (leases.size > 10_000) leases.clear();
        leases.set(key, { tokens, storeRemaining: res.remainingPoints, expiresAt });
      }
      return { allowed: true, limit, remaining: res.remainingPoints + tokens, resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)) };
    } catch (e) {
      if (e instanceof RateLimiterRes) {
        const secs = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        leases.delete(key);
        // a caller's several points (not a lease top-up, whose refusals count as single requests' do)
        if (need > 1 && want === need) await refund(safeKey(key), want);
        return { allowed: false, limit, remaining: 0, resetSeconds: secs, retryAfterSeconds: secs };
      }
      storeDownUntil = Date.now() + retryMs;
      const error = e instanceof Error ? e.message : String(e);
      return { allowed: true, limit, remaining: limit, resetSeconds: window, degraded: { error, first: true } };
    }
  };

  /** What this instance decides without the store: a point of a live lease, or the open circuit breaker. */
  const locally = (key: string, points: number, nowMs: number): RateLimitDecision | undefined => {
    if (nowMs < storeDownUntil) {
      return { allowed: true, limit, remaining: limit, resetSeconds: window, degraded: { error: 'store unavailable (circuit open)', first: false } };
    }
    const lease = leases.get(key);
    if (lease && lease.tokens >= points && lease.expiresAt > nowMs) {
      lease.tokens -= points;
      return { allowed: true, limit, remaining: lease.storeRemaining + lease.tokens, resetSeconds: Math.max(0, Math.ceil((lease.expiresAt - nowMs) / 1000)) };
    }
    return undefined;
  };

  return {
    policy: `${limit};w=${window}`,
    limit,
    windowSeconds: window,
    store,
    consumeLocally: (key: string, points = 1) => locally(key, points, Date.now()),
    async consume(key: string, points = 1): Promise<RateLimitDecision> {
      const nowMs = Date.now();
      for (;;) {
        const local = locally(key, points, nowMs);
        if (local !== undefined) return local;
        // With leases, one store trip per key at a time: concurrent requests wait for the lease it brings
        // (and share a refusal or a store failure).
        const pending = leaseSize > 1 ? inflight.get(key) : undefined;
        if (pending === undefined) break;
        const d = await pending;
        if (!d.allowed || d.degraded) return d;
      }
      const p = fromStore(key, nowMs, points);
      if (leaseSize > 1) {
        inflight.set(key, p);
        void p.finally(() => inflight.delete(key));
      }
      return p;
    },
    close: closeStore,
  };
}
