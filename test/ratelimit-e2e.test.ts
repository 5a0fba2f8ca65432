/**
 * Issue 5, rate limiting through HTTP with counters shared by two server instances on the same database:
 * 80 requests of one user split across both instances against a budget of 50 per 60 s -> exactly 50 pass
 * (with the remaining counts 49..0, each once), 30 are 429 with Retry-After, every response carries the
 * RateLimit headers, and a `ratelimit.rejected` event names the user. Once with the PostgreSQL store, once
 * with Redis (skipped with a message when Redis does not answer). User names are new on every run, so
 * counters left in Redis by earlier runs never interfere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table public.item (id int primary key, label text);
insert into public.item select g, 'item ' || g from generate_series(1, 5) g;
`;

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

let db: TestDb;
before(async () => {
  db = await createTestDb(FIXTURE);
});
after(async () => {
  await db?.drop();
});

function redisReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 6379), u.hostname);
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

interface Outcome {
  status: number;
  headers: Headers;
  body: string;
}

async function runScenario(store: 'postgres' | 'redis'): Promise<string> {
  const user = `rl_${store}_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  const other = `rl_other_${randomBytes(6).toString('hex')}`;
  const overrides = {
    expose: ['public.item'],
    auth: { users: [{ name: user, password }, { name: other, password }] },
    rateLimit: { enabled: true, points: 50, windowSeconds: 60, redisUrl: store === 'redis' ? REDIS_URL : '' },
  };
  const servers: TestServer[] = [];
  try {
    // Booting together also exercises the race on creating the counters table.
    servers.push(...(await Promise.all([startTestServer(db.url, overrides), startTestServer(db.url, overrides)])));
    const auth = { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    const outcomes: Outcome[] = [];
    for (let batch = 0; batch < 8; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const srv = servers[(batch * 10 + i) % 2]!;
          const res = await srv.get(i % 3 === 0 ? 'item?$top=2' : i % 3 === 1 ? 'item(1)' : '$metadata', auth);
          return { status: res.status, headers: res.headers, body: await res.text() };
        }),
      );
      outcomes.push(...results);
    }
    const ok = outcomes.filter((o) => o.status === 200);
    const limited = outcomes.filter((o) => o.status === 429);
    assert.equal(ok.length, 50, `exactly 50 succeed (statuses: ${outcomes.map((o) => o.status).join(',')})`);
    assert.equal(limited.length, 30);
    // Both instances served and refused: the counter is shared, not per process.
    for (const o of outcomes) {
      const h = (n: string): string => o.headers.get(n) ?? '';
      assert.equal(h('ratelimit-limit'), '50');
      assert.match(h('ratelimit-remaining'), /^\d+$/);
      assert.match(h('ratelimit-reset'), /^\d+$/);
      assert.ok(Number(h('ratelimit-reset')) <= 60);
      assert.equal(h('ratelimit-policy'), '50;w=60');
    }
    const remaining = ok.map((o) => Number(o.headers.get('ratelimit-remaining'))).sort((a, b) => a - b);
    assert.deepEqual(remaining, Array.from({ length: 50 }, (_, i) => i), 'each allowed request took one distinct unit');
    for (const o of limited) {
      assert.equal(o.headers.get('ratelimit-remaining'), '0');
      const ra = Number(o.headers.get('retry-after'));
      assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${o.headers.get('retry-after')}`);
      const body = JSON.parse(o.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'TooManyRequests');
      assert.match(body.error.message, /50 requests per 60 s/);
      assert.match(o.headers.get('content-type') ?? '', /^application\/json/);
    }
    const perServer = [0, 1].map((s) => outcomes.filter((_, i) => i % 2 === s));
    for (const list of perServer) assert.ok(list.some((o) => o.status === 429), 'each instance refuses once the shared budget is spent');
    // The rejection is logged, with the user, by the instance that refused.
    const rejected = servers.flatMap((s) => s.logs).filter((l) => l.includes('"ratelimit.rejected"'));
    assert.ok(rejected.length >= 1);
    for (const line of rejected) {
      const ev = JSON.parse(line) as Record<string, unknown>;
      assert.equal(ev['user'], user);
      assert.equal(ev['limit'], 50);
    }
    assert.ok(!servers.flatMap((s) => s.logs).some((l) => l.includes('ratelimit.store_error')), 'the store worked');
    // Another user's budget is untouched; /healthz is never charged.
    const res = await servers[1]!.get('item?$top=1', { Authorization: `Basic ${Buffer.from(`${other}:${password}`).toString('base64')}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('ratelimit-remaining'), '49');
    const hz = await fetch(`http://127.0.0.1:${servers[0]!.server.port}/healthz`);
    assert.equal(hz.status, 200);
    assert.equal(hz.headers.get('ratelimit-limit'), null);
    return user;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

describe('shared rate limit across two instances', () => {
  it('PostgreSQL store: exactly 50 of 80 pass, the rest 429 with Retry-After', async () => {
    const user = await runScenario('postgres');
    const rows = await db.query<{ points: number }>('select points from odata_server.rate_limits where key = $1', [`rl:user:${user}`]);
    assert.ok(rows.length === 1 && rows[0]!.points >= 50, `the counter lives in PostgreSQL: ${JSON.stringify(rows)}`);
  });

  it('Redis store: the same', async (t) => {
    if (!(await redisReachable(REDIS_URL))) {
      t.skip(`Redis is not reachable at ${REDIS_URL}; set REDIS_URL to run this test`);
      return;
    }
    const user = await runScenario('redis');
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      assert.equal(await redis.exists(`rl:user:${user}`), 1, 'the counter lives in Redis');
    } finally {
      redis.disconnect();
    }
  });
});

describe('rate limit before authentication', () => {
  it('charges refused requests to the client address: 401 with RateLimit headers, then 429', async () => {
    const srv = await startTestServer(db.url, {
      expose: ['public.item'],
      auth: { users: [{ name: `u_${randomBytes(4).toString('hex')}`, password: 'secret' }] },
      rateLimit: { enabled: true, points: 5, windowSeconds: 60, redisUrl: '' },
      server: { rootPath: '/odata/v4', trustProxy: true },
    });
    try {
      // a fresh address per run, so counters kept in PostgreSQL by earlier runs do not interfere
      const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await srv.get('item', { 'X-Forwarded-For': ip });
        statuses.push(res.status);
        assert.equal(res.headers.get('ratelimit-limit'), '5');
        if (res.status === 401) assert.ok(res.headers.get('www-authenticate'));
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
        await res.text();
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      assert.ok(srv.logs.some((l) => l.includes('"ratelimit.rejected"') && l.includes(`ip:${ip}`)));
    } finally {
      await srv.stop();
    }
  });
});

describe('a $batch counts as many requests as it holds', () => {
  it('charges each inner request; a batch that would pass the limit is 429 before any of it runs, and handed back', async () => {
    const user = `rl_batch_${randomBytes(6).toString('hex')}`;
    const password = randomBytes(16).toString('hex');
    const srv = await startTestServer(db.url, {
      expose: ['public.item'],
      auth: { users: [{ name: user, password }] },
      rateLimit: { enabled: true, points: 10, windowSeconds: 60 },
    });
    try {
      const auth = { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
      const batch = (n: number): Promise<Response> =>
        srv.request('POST', '$batch', {
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: { requests: Array.from({ length: n }, (_, i) => ({ id: String(i + 1), method: 'GET', url: `item(${(i % 5) + 1})` })) },
        });
      const first = await batch(4);
      assert.equal(first.status, 200, await first.clone().text());
      assert.equal(first.headers.get('ratelimit-remaining'), '6', 'four requests charged');
      const body = (await first.json()) as { responses: { status: number }[] };
      assert.deepEqual(body.responses.map((r) => r.status), [200, 200, 200, 200]);
      const over = await batch(7);
      assert.equal(over.status, 429);
      assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'TooManyRequests');
      assert.ok(Number(over.headers.get('retry-after')) >= 1);
      const single = await srv.get('item(1)', auth);
      assert.equal(single.status, 200, 'the refused batch did not run and used up nothing but the $batch request itself');
      assert.equal(single.headers.get('ratelimit-remaining'), '4');
      await single.text();
      const huge = await batch(11);
      assert.equal(huge.status, 429, 'more requests than the whole window allows');
      await huge.text();
      const after = await srv.get('item(1)', auth);
      assert.equal(after.status, 200, 'and the credential is not blocked for the rest of the window');
      assert.equal(after.headers.get('ratelimit-remaining'), '2');
      await after.text();
      assert.ok(srv.logs.some((l) => l.includes('"ratelimit.rejected"')));
    } finally {
      await srv.stop();
    }
  });
});
