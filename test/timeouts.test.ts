/**
 * Issue 5, limits that protect the server and the database: a query running past
 * `database.statementTimeoutMs` is cancelled by PostgreSQL and answered 504 with an OData error (and is
 * gone from pg_stat_activity) while other requests keep being served; an exhausted pool
 * (`poolSize: 1`, `acquireTimeoutMs: 100`) answers 503 with Retry-After; `server.maxResponseBytes` ends a
 * page early with a nextLink, and walking the links returns every row exactly once.
 *
 * The slow query is deterministic: a view whose WHERE sleeps 10 ms per row, exposed as an entity set.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table public.t (id int primary key, a text not null);
insert into public.t select g, 'row ' || g from generate_series(1, 1000) g;
create function public.sleepy(int) returns boolean language plpgsql volatile as $$ begin perform pg_sleep(0.01); return true; end $$;
create view public.slow as select t.id, t.a from public.t where public.sleepy(t.id);
create table public.wide (id int primary key, payload text not null, n int);
insert into public.wide select g, repeat(chr(97 + g % 26), 2000 + g % 7), g from generate_series(1, 300) g;
insert into public.wide values (1000, repeat('z', 100000), 0);
`;

const EXPOSE = [{ name: 'public.slow', key: ['id'] }, 'public.t', 'public.wide'];

let db: TestDb;
before(async () => {
  db = await createTestDb(FIXTURE);
});
after(async () => {
  await db?.drop();
});

interface ODataErrorBody {
  error: { code: string; message: string };
}

async function activeSlowQueries(): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and state = 'active' and query ilike '%slow%'`,
  );
  return rows[0]!.n;
}

describe('statement timeout', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(db.url, { expose: EXPOSE, database: { url: db.url, statementTimeoutMs: 300, poolSize: 4 } });
  });
  after(async () => {
    await srv?.stop();
  });

  it('a query past the timeout is cancelled and answered 504 with an OData error', async () => {
    const started = Date.now();
    const res = await srv.get('slow?$count=true&$orderby=a desc');
    const ms = Date.now() - started;
    const text = await res.text();
    assert.equal(res.status, 504, text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = JSON.parse(text) as ODataErrorBody;
    assert.equal(body.error.code, 'Timeout');
    assert.match(body.error.message, /statement timeout/);
    assert.doesNotMatch(text, /pg_sleep|select /i, 'no SQL in the answer');
    assert.ok(ms < 3000, `answered after ${ms} ms, not after the 10 s the query would take`);
    assert.equal(await activeSlowQueries(), 0, 'the backend no longer runs it');
    // A timeout is not a bug: nothing is logged as a masked 500.
    assert.ok(!srv.logs.some((l) => l.includes('"request.failed"')));
  });

  it('other requests keep being served while slow ones run', async () => {
    const slow = Array.from({ length: 3 }, () => srv.get('slow/$count').then(async (r) => ({ status: r.status, body: await r.text(), at: Date.now() })));
    await new Promise((r) => setTimeout(r, 50));
    const fastStarted = Date.now();
    const fast = await srv.get('t?$top=2&$orderby=id');
    const fastAt = Date.now();
    assert.equal(fast.status, 200);
    assert.deepEqual(((await fast.json()) as { value: { id: number }[] }).value.map((v) => v.id), [1, 2]);
    const results = await Promise.all(slow);
    for (const r of results) {
      assert.equal(r.status, 504, r.body);
      assert.equal((JSON.parse(r.body) as ODataErrorBody).error.code, 'Timeout');
    }
    assert.ok(fastAt - fastStarted < 1000, `fast request took ${fastAt - fastStarted} ms`);
    assert.ok(results.every((r) => r.at >= fastAt - 5), 'the fast answer came while the slow ones were still running');
    assert.equal(await activeSlowQueries(), 0);
    const h = await fetch(`${srv.root.replace(/odata\/v4\/$/, '')}healthz`);
    assert.equal(h.status, 200);
  });

  it('a filtered single entity from the slow view within the timeout still answers', async () => {
    const res = await srv.get('slow?$top=3&$orderby=id');
    // LIMIT stops the scan early: 3 rows sleep 30 ms.
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { value: unknown[] }).value.length, 3);
  });
});

describe('pool acquire timeout', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(db.url, { expose: EXPOSE, database: { url: db.url, statementTimeoutMs: 1500, poolSize: 1, acquireTimeoutMs: 100 } });
  });
  after(async () => {
    await srv?.stop();
  });

  it('with the only connection held, another request is 503 with Retry-After', async () => {
    const holding = srv.get('slow/$count');
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    const res = await srv.get('t?$top=1');
    const ms = Date.now() - started;
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    const body = JSON.parse(text) as ODataErrorBody;
    assert.equal(body.error.code, 'ServiceUnavailable');
    assert.ok(ms < 1000, `refused after ${ms} ms`);
    // The holder itself ends with its own timeout.
    const held = await holding;
    assert.equal(held.status, 504, await held.text());
    // And the pool recovers.
    const again = await srv.get('t?$top=1');
    assert.equal(again.status, 200);
    assert.ok(!srv.logs.some((l) => l.includes('"request.failed"')), 'no masked 500');
  });
});

describe('response size cap', () => {
  let srv: TestServer;
  const CAP = 65536;
  before(async () => {
    srv = await startTestServer(db.url, { expose: EXPOSE, server: { rootPath: '/odata/v4', maxResponseBytes: CAP } });
  });
  after(async () => {
    await srv?.stop();
  });

  async function walk(first: string): Promise<{ ids: number[]; pages: number; sizes: number[]; count?: number }> {
    const ids: number[] = [];
    const sizes: number[] = [];
    let url: string | undefined = first;
    let count: number | undefined;
    let pages = 0;
    while (url !== undefined) {
      const res = await srv.get(url);
      const text = await res.text();
      assert.equal(res.status, 200, text.slice(0, 300));
      sizes.push(Buffer.byteLength(text));
      const body = JSON.parse(text) as { value: { id: number }[]; '@odata.nextLink'?: string; '@odata.count'?: number };
      if (pages === 0 && body['@odata.count'] !== undefined) count = body['@odata.count'];
      ids.push(...body.value.map((v) => v.id));
      url = body['@odata.nextLink'];
      pages++;
      assert.ok(pages < 100, 'the walk ends');
    }
    return { ids, pages, sizes, ...(count !== undefined ? { count } : {}) };
  }

  it('a page of wide rows ends early with a nextLink; the walk returns every row once', async () => {
    const first = await srv.get('wide?$filter=id lt 1000&$orderby=id');
    const body = (await first.json()) as { value: unknown[]; '@odata.nextLink'?: string };
    assert.ok(body.value.length > 0 && body.value.length < 300, `first page has ${body.value.length} rows`);
    assert.ok(body['@odata.nextLink'], 'nextLink');
    const w = await walk('wide?$filter=id lt 1000&$orderby=id&$count=true');
    assert.deepEqual(w.ids, Array.from({ length: 300 }, (_, i) => i + 1));
    assert.equal(w.count, 300);
    assert.ok(w.pages >= 10, `${w.pages} pages`);
    for (const s of w.sizes) assert.ok(s <= CAP, `a page of ${s} bytes exceeds the cap`);
  });

  it('the cap holds with other orders, $select and $top', async () => {
    const desc = await walk('wide?$filter=id lt 1000&$orderby=n desc');
    assert.deepEqual(desc.ids, Array.from({ length: 300 }, (_, i) => 300 - i));
    const top = await walk('wide?$filter=id lt 1000&$orderby=id&$top=150');
    assert.deepEqual(top.ids, Array.from({ length: 150 }, (_, i) => i + 1));
    for (const s of [...desc.sizes, ...top.sizes]) assert.ok(s <= CAP);
    // Narrow rows fit in one page.
    const narrow = await walk('wide?$select=id&$filter=id lt 1000');
    assert.equal(narrow.pages, 1);
    assert.equal(narrow.ids.length, 300);
  });

  it('a single row larger than the cap is still delivered (alone), and the walk goes on', async () => {
    const w = await walk('wide?$filter=id ge 299&$orderby=id');
    assert.deepEqual(w.ids, [299, 300, 1000]);
  });
});

describe('request timeout', () => {
  it('a client that stops sending halfway through a body gets 408 with an OData error, and the connection is closed', async () => {
    const srv = await startTestServer(db.url, { expose: EXPOSE }, { requestTimeoutMs: 1000 });
    try {
      const port = srv.server.port;
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write('POST /odata/v4/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id": 5'));
        let got = '';
        sock.on('data', (d: Buffer) => (got += d.toString()));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
      });
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms: ${answer}`);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"RequestTimeout"/);
      assert.equal((await db.query('select count(*)::int as n from t where id = 5'))[0]!['n'], 1, 'the existing row 5 is untouched');
    } finally {
      await srv.stop();
    }
  });
});
