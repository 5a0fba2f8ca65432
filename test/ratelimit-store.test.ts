/**
 * The rate-limit counters are shared by every server instance: two limiters (two "servers") over one store
 * must together allow exactly `points` requests. Runs against the real PostgreSQL (a throwaway database)
 * and Redis (a random key prefix); the Redis part skips when Redis is unreachable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createRateLimiter, type RateLimiter, type RateLimitDecision } from '../src/ratelimit/limiter.js';

const ADMIN_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const suffix = randomBytes(6).toString('hex');

// Probed once, before any suite runs, so the PostgreSQL suite's hooks are not interleaved with the probe.
const probe = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
probe.on('error', () => undefined);
const reachable = await probe.connect().then(
  () => true,
  () => false,
);
const prefix = `odata-rl-test-${suffix}`;
const skip = reachable ? false : `Redis unreachable at ${REDIS_URL}: set REDIS_URL to run this test`;

async function concurrentRound(a: RateLimiter, b: RateLimiter, key: string): Promise<RateLimitDecision[]> {
  return Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? a : b).consume(key)));
}

function assertExactly50(rs: RateLimitDecision[]): void {
  const allowed = rs.filter((r) => r.allowed);
  const rejected = rs.filter((r) => !r.allowed);
  assert.equal(allowed.length, 50);
  assert.equal(rejected.length, 30);
  for (const r of rejected) assert.ok((r.retryAfterSeconds ?? 0) > 0 && (r.retryAfterSeconds ?? 0) <= 60, String(r.retryAfterSeconds));
  for (const r of rs) assert.equal(r.degraded, undefined);
}

describe('PostgreSQL store', () => {
  const dbName = `odata_rl_test_${suffix}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  let poolA: pg.Pool;
  let poolB: pg.Pool;

  before(async () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    poolA = new pg.Pool({ connectionString: url.toString(), max: 5 });
    poolB = new pg.Pool({ connectionString: url.toString(), max: 5 });
    poolA.on('error', () => undefined);
    poolB.on('error', () => undefined);
  });

  after(async () => {
    await poolA?.end();
    await poolB?.end();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  test('large limits are leased in blocks: few store trips, and still exactly the limit across instances', async () => {
    const [a, b] = await Promise.all([
      createRateLimiter({ points: 5000, windowSeconds: 60, burst: 0, redisUrl: '', db: poolA, keyPrefix: 'lease' }),
      createRateLimiter({ points: 5000, windowSeconds: 60, burst: 0, redisUrl: '', db: { pool: poolB }, keyPrefix: 'lease' }),
    ]);
    let allowed = 0;
    let rejected = 0;
    // 6,000 requests in waves of 40 concurrent, alternating instances
    for (let wave = 0; wave < 150; wave++) {
      const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).consume('user:lease')));
      for (const r of rs) (r.allowed ? allowed++ : rejected++);
    }
    assert.equal(allowed, 5000, 'every leased point is spent, none beyond the limit');
    assert.equal(rejected, 1000);
    const row = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key LIKE 'lease%'`);
    assert.ok(row.rows[0]!.points >= 5000, 'the store counted the leased points');
    await poolA.query(`DELETE FROM odata_server.rate_limits WHERE key LIKE 'lease%'`);
    await a.close();
    await b.close();
  });

  test('consumeLocally spends a live lease without the store, and leaves the rest to consume()', async () => {
    const l = await createRateLimiter({ points: 5000, windowSeconds: 60, burst: 0, redisUrl: '', db: poolA, keyPrefix: 'local' });
    assert.equal(l.consumeLocally?.('user:local'), undefined, 'no lease yet: only the store can decide');
    const first = await l.consume('user:local');
    assert.equal(first.allowed, true);
    // the lease (a block of 5 points) holds 4 more: they are decided at once, counting down
    const local = [1, 2, 3, 4].map(() => l.consumeLocally?.('user:local'));
    assert.deepEqual(local.map((d) => d?.allowed), [true, true, true, true]);
    assert.deepEqual(local.map((d) => d!.remaining), [first.remaining - 1, first.remaining - 2, first.remaining - 3, first.remaining - 4]);
    assert.equal(l.consumeLocally?.('user:local'), undefined, 'the lease is spent');
    assert.equal(l.consumeLocally?.('user:other'), undefined, 'leases are per key');
    const row = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key LIKE 'local%'`);
    assert.equal(row.rows[0]!.points, 5, 'the store was asked once, for the block');
    await poolA.query(`DELETE FROM odata_server.rate_limits WHERE key LIKE 'local%'`);
    await l.close();
  });

  test('two instances share the counters: 80 concurrent consumes, exactly 50 allowed', async () => {
    // Created together: both race to create the schema and the table.
    const [a, b] = await Promise.all([
      createRateLimiter({ points: 50, windowSeconds: 60, burst: 0, redisUrl: '', db: poolA }),
      createRateLimiter({ points: 50, windowSeconds: 60, burst: 0, redisUrl: '', db: { pool: poolB } }),
    ]);
    assert.equal(a.store, 'postgres');
    assertExactly50(await concurrentRound(a, b, 'user:alice'));
    const other = await a.consume('user:bob');
    assert.equal(other.allowed, true);
    assert.equal(other.remaining, 49);
    const t = await poolA.query<{ n: string }>(`SELECT count(*) AS n FROM odata_server.rate_limits`);
    assert.equal(t.rows[0]?.n, '2', 'counters live in odata_server.rate_limits');
    await a.close();
    await b.close();
  });

  test('several points at once (a $batch): one store trip, exact counts, refused whole and handed back when they do not fit', async () => {
    let trips = 0;
    const counting = new pg.Pool({ connectionString: url.toString(), max: 2 });
    counting.on('error', () => undefined);
    const query = counting.query.bind(counting) as (...args: unknown[]) => unknown;
    (counting as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      trips++;
      return query(...args);
    };
    const l = await createRateLimiter({ points: 10, windowSeconds: 60, burst: 0, redisUrl: '', db: counting, keyPrefix: 'multi' });
    trips = 0;
    const r1 = await l.consume('k', 7);
    assert.equal(r1.allowed, true);
    assert.equal(r1.remaining, 3);
    assert.equal(trips, 1, 'seven points, one round trip');
    const r2 = await l.consume('k', 4);
    assert.equal(r2.allowed, false, 'four do not fit in the three left');
    assert.ok((r2.retryAfterSeconds ?? 0) >= 1);
    const row = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key = 'multi:k'`);
    assert.equal(row.rows[0]!.points, 7, 'the refused batch was handed back: it did not run, so it uses up nothing');
    const r3 = await l.consume('k', 3);
    assert.equal(r3.allowed, true, 'what is left of the window is still there');
    assert.equal(r3.remaining, 0);
    assert.equal((await l.consume('k')).allowed, false);
    const row2 = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key = 'multi:k'`);
    assert.equal(row2.rows[0]!.points, 11, 'a single request over the limit is counted, as the store always did');
    await counting.end();

    // Leased (a large limit): a batch larger than a block takes what it needs, the rest stays leased.
    const big = await createRateLimiter({ points: 5000, windowSeconds: 60, burst: 0, redisUrl: '', db: poolA, keyPrefix: 'multi-lease' });
    const b1 = await big.consume('k', 12); // block of 5 < 12: the store gives 12
    assert.equal(b1.allowed, true);
    assert.equal(b1.remaining, 5000 - 12);
    const b2 = await big.consume('k'); // a new block of 5, one spent
    assert.equal(b2.remaining, 5000 - 13);
    const b3 = await big.consume('k', 4); // the four left in the block: no store trip
    assert.equal(b3.remaining, 5000 - 17);
    const stored = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key = 'multi-lease:k'`);
    assert.equal(stored.rows[0]!.points, 17, 'no point taken twice, none lost');
    const b4 = await big.consume('k', 3); // none leased: a block of 5, three spent, two kept
    assert.equal(b4.remaining, 5000 - 20);
    const b5 = await big.consume('k', 4); // two leased + two more from a new block of 5 (three kept)
    assert.equal(b5.remaining, 5000 - 24);
    const after5 = await poolA.query<{ points: number }>(`SELECT points FROM odata_server.rate_limits WHERE key = 'multi-lease:k'`);
    assert.equal(after5.rows[0]!.points, 27, 'the store holds what was taken, the three still leased included');
    await poolA.query(`DELETE FROM odata_server.rate_limits WHERE key LIKE 'multi%'`);
  });

  test('burst: sub-window rate plus burst, shared', async () => {
    const mk = (pool: pg.Pool): Promise<RateLimiter> =>
      createRateLimiter({ points: 600, windowSeconds: 3600, burst: 5, redisUrl: '', db: pool, keyPrefix: 'burst-test' });
    const [a, b] = await Promise.all([mk(poolA), mk(poolB)]);
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).consume('k')));
    assert.equal(rs.filter((r) => r.allowed).length, 15, '10 per minute + 5 burst');
  });

  test('store down: fails open, reports once, then skips the store until the retry time', async () => {
    const dead = new pg.Pool({ connectionString: url.toString(), max: 1 });
    dead.on('error', () => undefined);
    const l = await createRateLimiter({ points: 5, windowSeconds: 60, burst: 0, redisUrl: '', db: dead, storeRetryMs: 60_000 });
    await dead.end(); // the pool now refuses every query
    const r1 = await l.consume('k');
    assert.equal(r1.allowed, true);
    assert.equal(r1.degraded?.first, true);
    const r2 = await l.consume('k');
    assert.equal(r2.allowed, true);
    assert.equal(r2.degraded?.first, false);
  });
});

describe('Redis store', () => {
  after(async () => {
    if (reachable) {
      const keys = await probe.keys(`${prefix}*`);
      if (keys.length > 0) await probe.del(...keys);
      await probe.quit();
    } else {
      probe.disconnect();
    }
  });

  test('two instances share the counters: 80 concurrent consumes, exactly 50 allowed', { skip }, async () => {
    const [a, b] = await Promise.all([
      createRateLimiter({ points: 50, windowSeconds: 60, burst: 0, redisUrl: REDIS_URL, keyPrefix: prefix }),
      createRateLimiter({ points: 50, windowSeconds: 60, burst: 0, redisUrl: REDIS_URL, keyPrefix: prefix }),
    ]);
    try {
      assert.equal(a.store, 'redis');
      assertExactly50(await concurrentRound(a, b, 'user:alice'));
      assert.ok((await probe.keys(`${prefix}*`)).length >= 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
