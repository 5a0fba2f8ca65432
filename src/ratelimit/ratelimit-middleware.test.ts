import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { App, type Middleware } from '../http/kernel.js';
import { ODataError } from '../errors/odata-error.js';
import { createLogger } from '../log.js';
import { rateLimitMiddleware, rateLimitKey } from '../http/ratelimit-middleware.js';
import { createRateLimiter, type RateLimiter, type RateLimitDecision } from './limiter.js';

function capture(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('debug', dest), lines };
}

async function serve(limiter: RateLimiter, logger: ReturnType<typeof createLogger>, downstream: Middleware): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new App();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      // Like the real error middleware: headers already set are kept, the error's own are added.
      const err = e instanceof ODataError ? e : new ODataError('Internal', 'boom');
      ctx.status = err.status;
      if (err.headers) ctx.set(err.headers as Record<string, string>);
      ctx.body = err.toJSON();
    }
  });
  app.use(async (ctx, next) => {
    const u = ctx.get('x-user');
    if (u !== '') ctx.state.user = { name: u, canRead: () => true, canWrite: () => true };
    await next();
  });
  app.use(rateLimitMiddleware({ limiter, logger }));
  app.use(downstream);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

test('RateLimit headers on every response, 429 with Retry-After over the limit, per user', async () => {
  const limiter = await createRateLimiter({ points: 3, windowSeconds: 60, burst: 0, redisUrl: '' });
  const log = capture();
  const s = await serve(limiter, log.logger, (ctx) => {
    if (ctx.path === '/fail') throw new ODataError('EntitySetNotFound', 'no such set');
    ctx.body = 'ok';
  });
  try {
    const get = (path: string, user = 'alice'): Promise<Response> => fetch(`${s.url}${path}`, { headers: { 'x-user': user } });
    const r1 = await get('/');
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('ratelimit-limit'), '3');
    assert.equal(r1.headers.get('ratelimit-remaining'), '2');
    assert.equal(r1.headers.get('ratelimit-policy'), '3;w=60');
    assert.ok(Number(r1.headers.get('ratelimit-reset')) > 0);
    const r2 = await get('/fail');
    assert.equal(r2.status, 404);
    assert.equal(r2.headers.get('ratelimit-remaining'), '1', 'headers survive downstream errors');
    assert.equal((await get('/')).status, 200);
    const r4 = await get('/');
    assert.equal(r4.status, 429);
    assert.ok(Number(r4.headers.get('retry-after')) > 0);
    assert.equal(r4.headers.get('ratelimit-remaining'), '0');
    assert.equal(r4.headers.get('ratelimit-limit'), '3');
    assert.equal(((await r4.json()) as { error: { code: string } }).error.code, 'TooManyRequests');
    const rejected = log.lines.find((l) => l['event'] === 'ratelimit.rejected');
    assert.ok(rejected);
    assert.equal(rejected['user'], 'alice');
    assert.equal((await get('/', 'bob')).status, 200, 'another user has their own budget');
  } finally {
    await s.close();
    await limiter.close();
  }
});

test('a store failure fails open and is logged once per outage', async () => {
  let calls = 0;
  const broken: RateLimiter = {
    policy: '10;w=60',
    limit: 10,
    windowSeconds: 60,
    store: 'postgres',
    consume: async (): Promise<RateLimitDecision> => {
      calls += 1;
      return { allowed: true, limit: 10, remaining: 10, resetSeconds: 60, degraded: { error: 'connection refused', first: calls === 1 } };
    },
    close: async () => undefined,
  };
  const log = capture();
  const s = await serve(broken, log.logger, (ctx) => {
    ctx.body = 'ok';
  });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(s.url);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit-limit'), '10');
    }
    assert.equal(log.lines.filter((l) => l['event'] === 'ratelimit.store_error').length, 1);
  } finally {
    await s.close();
  }
});

test('rateLimitKey: user name when authenticated, else the address', () => {
  assert.equal(rateLimitKey({ state: { user: { name: 'al' } }, ip: '1.2.3.4' } as never), 'user:al');
  assert.equal(rateLimitKey({ state: {}, ip: '1.2.3.4' } as never), 'ip:1.2.3.4');
});

test('memory limiter with burst: sub-window rate plus a burst allowance', async () => {
  // 600 per hour with burst 5 -> 10 per 60 s, plus 5 extra per hour.
  const l = await createRateLimiter({ points: 600, windowSeconds: 3600, burst: 5, redisUrl: '' });
  assert.equal(l.policy, '10;w=60');
  const rs = await Promise.all(Array.from({ length: 30 }, () => l.consume('k')));
  assert.equal(rs.filter((r) => r.allowed).length, 15);
  const rej = rs.find((r) => !r.allowed);
  assert.ok(rej && (rej.retryAfterSeconds ?? 0) > 0);
  await l.close();
});
