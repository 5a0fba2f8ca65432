/**
 * Collection pages as PostgreSQL renders them: one joined text per page (aggregated) whenever the
 * metadata level lets PostgreSQL write every entity, else one row per entity. Checks, against the rows
 * themselves: values that hold the page separator (0x1e), commas, quotes, backslashes and non-ASCII text
 * come back exactly; pages keep their order; nextLinks resume after the last row of an aggregated page;
 * each entity's @odata.etag is the one a single read returns; a table with a column named "m" (the alias
 * of the rendered row) reads correctly; and a page over the size cap is read again row by row and cut.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table public.doc (id int primary key, title text, m text, n numeric(30,10), big bigint, pad text, ts timestamptz, d date, flag boolean);
insert into public.doc
  select i,
         case i % 7
           when 0 then 'sep' || chr(30) || 'arated'
           when 1 then 'comma, "quoted" \\ back'
           when 2 then 'ünïcödé ✓ 𝄞'
           when 3 then null
           else 'title ' || i end,
         'm' || (i % 3),
         i * 1.0000000001,
         9007199254740993 + i,
         repeat('p', 600),
         case when i % 11 = 0 then null else timestamptz '2020-01-01 00:00:00+00' + (i % 13) * interval '1 hour 0.123456 sec' end,
         date '2020-01-01' + (i % 9),
         case when i % 5 = 0 then null else i % 2 = 0 end
  from generate_series(1, 230) i;
create table public.ws (id int primary key, s text);
insert into public.ws values (1, E'\\t tab and spaces \\n'), (2, U&'\\00A0nbsp\\3000'), (3, 'inner  space'), (4, null);
create table public.fine (id int primary key, n numeric(30,20) not null);
insert into public.fine select i, 1 + (i / 2) * 0.000000000000000001 from generate_series(1, 40) i;
`;

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.doc', 'public.ws', 'public.fine'], pageSize: 100 });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

interface Body {
  value: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
}

async function page(url: string, headers: Record<string, string> = {}): Promise<{ body: Body; text: string }> {
  const res = await srv.get(url, headers);
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  return { body: JSON.parse(text) as Body, text };
}

async function walk(first: string, headers: Record<string, string> = {}): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
  const rows: Record<string, unknown>[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url) {
    const { body } = await page(url, headers);
    rows.push(...body.value);
    url = body['@odata.nextLink'];
    assert.ok(++pages < 100, 'the walk ends');
  }
  return { rows, pages };
}

describe('aggregated pages', () => {
  it('return every value exactly, separator characters included, in order', async () => {
    const { body, text } = await page('doc?$orderby=id&$top=50');
    assert.ok(!text.includes('\u001e'), 'no raw separator reaches the client');
    const want = await db.query<{ id: number; title: string | null; m: string }>('select id, title, m from public.doc order by id limit 50');
    assert.deepEqual(body.value.map((r) => [r['id'], r['title'], r['m']]), want.map((r) => [r.id, r.title, r.m]));
    assert.ok(body.value.some((r) => r['title'] === 'sep\u001earated'));
    assert.equal(body['@odata.nextLink'], undefined, '$top within the page size: no nextLink');
  });

  it('keep the digits of numeric and bigint values', async () => {
    const { text } = await page('doc?$filter=id eq 7&$select=id,n,big');
    assert.match(text, /"n":7\.0000000007,"big":9007199254741000\b|"n":7\.0000000007000000000,"big":9007199254741000\b/);
  });

  it('page by nextLink after the last row, through ties and nulls, until every row was read once', async () => {
    for (const [orderby, sql] of [
      ['title', 'title asc nulls first, id'],
      ['title desc', 'title desc nulls last, id'],
      ['m desc,id desc', 'm desc, id desc'],
    ] as const) {
      const w = await walk(`doc?$orderby=${encodeURIComponent(orderby)}&$select=id`, { Prefer: 'odata.maxpagesize=17' });
      const want = await db.query<{ id: number }>(`select id from public.doc order by ${sql}`);
      assert.deepEqual(w.rows.map((r) => r['id']), want.map((r) => r.id), orderby);
      assert.equal(w.pages, Math.ceil(230 / 17), orderby);
    }
    // Skip tokens read from the last entity's JSON: digits beyond 2^53, microseconds, dates, booleans, nulls.
    for (const [orderby, sql] of [
      ['big desc', 'big desc'],
      ['n', 'n, id'],
      ['ts,id', 'ts asc nulls first, id'],
      ['ts desc', 'ts desc nulls last, id'],
      ['d desc,flag,id desc', 'd desc, flag asc nulls first, id desc'],
    ] as const) {
      const w = await walk(`doc?$orderby=${encodeURIComponent(orderby)}&$select=id,big,n,ts,d,flag`, { Prefer: 'odata.maxpagesize=17' });
      const want = await db.query<{ id: number }>(`select id from public.doc order by ${sql}`);
      assert.deepEqual(w.rows.map((r) => r['id']), want.map((r) => r.id), orderby);
    }
    // Numerics that a double reads as the integer 1 (1.000000000000000001...), with ties: each page's
    // token must keep every digit, or the walk repeats or skips rows.
    for (const [orderby, sql] of [['n', 'n, id'], ['n desc,id desc', 'n desc, id desc']] as const) {
      const w = await walk(`fine?$orderby=${encodeURIComponent(orderby)}`, { Prefer: 'odata.maxpagesize=3' });
      const want = await db.query<{ id: number }>(`select id from public.fine order by ${sql}`);
      assert.deepEqual(w.rows.map((r) => r['id']), want.map((r) => r.id), orderby);
    }
    const topped = await walk('doc?$orderby=id&$top=130&$count=true');
    assert.deepEqual(topped.rows.map((r) => r['id']), Array.from({ length: 130 }, (_, i) => i + 1));
    assert.equal(topped.pages, 2, '$top=130 over pages of 100');
  });

  it('carry the same ETag per entity as a single read', async () => {
    const { body } = await page('doc?$filter=id le 5&$orderby=id');
    for (const r of body.value) {
      const one = await srv.get(`doc(${String(r['id'])})`);
      assert.equal(r['@odata.etag'], one.headers.get('etag'));
      await one.text();
    }
    const none = await page('doc?$top=3', { Accept: 'application/json;odata.metadata=none' });
    assert.ok(none.body.value.every((r) => !('@odata.etag' in r)), 'metadata=none leaves the ETag out');
    const full = await page('doc?$top=3&$orderby=id', { Accept: 'application/json;odata.metadata=full' });
    assert.deepEqual(full.body.value.map((r) => r['@odata.id']), [1, 2, 3].map((i) => `${srv.root}doc(${i})`));
  });

  it('count and an empty page: @odata.count with an empty value', async () => {
    const { body } = await page('doc?$filter=id gt 1000&$count=true&$top=5');
    assert.deepEqual(body.value, []);
    assert.equal(body['@odata.count'], 0);
    const zero = await page('doc?$top=0&$count=true');
    assert.deepEqual(zero.body.value, []);
    assert.equal(zero.body['@odata.count'], 230);
  });
});

describe('trim', () => {
  it('removes leading and trailing Unicode whitespace (tabs, newlines, no-break and ideographic spaces), not inner spaces', async () => {
    const ids = async (f: string): Promise<unknown[]> => (await page(`ws?$filter=${encodeURIComponent(f)}&$select=id`)).body.value.map((r) => r['id']);
    assert.deepEqual(await ids("trim(s) eq 'tab and spaces'"), [1]);
    assert.deepEqual(await ids("trim(s) eq 'nbsp'"), [2]);
    assert.deepEqual(await ids("trim(s) eq 'inner  space'"), [3]);
    assert.deepEqual(await ids('length(trim(s)) eq 4'), [2]);
  });
});

describe('planned pages are remembered per URL', () => {
  it('answer a repeated URL the same, and follow a schema reload', async () => {
    const url = 'doc?$filter=id le 3&$orderby=id desc';
    const a = await page(url);
    const b = await page(url);
    assert.equal(a.text, b.text);
    assert.deepEqual(a.body.value.map((r) => r['id']), [3, 2, 1]);
    assert.ok(!('extra' in a.body.value[0]!));
    await db.query('alter table public.doc add column extra int default 5');
    try {
      await srv.server.reload(srv.config);
      const c = await page(url);
      assert.equal(c.body.value[0]!['extra'], 5, 'the reloaded catalog is planned afresh');
    } finally {
      await db.query('alter table public.doc drop column extra');
      await srv.server.reload(srv.config);
    }
  });
});

describe('a page over the size cap', () => {
  it('is read again row by row, cut at an entity, and continued by nextLink', async () => {
    const small = await startTestServer(db.url, { expose: ['public.doc'], pageSize: 1000, server: { rootPath: '/odata/v4', maxResponseBytes: 65536 } });
    try {
      const first = await small.get('doc?$orderby=id&$top=200');
      const text = await first.text();
      assert.ok(Buffer.byteLength(text) <= 65536, `${Buffer.byteLength(text)} bytes`);
      const body = JSON.parse(text) as Body;
      assert.ok(body.value.length > 0 && body.value.length < 200);
      assert.ok(body['@odata.nextLink']);
      const ids: unknown[] = body.value.map((r) => r['id']);
      let next = body['@odata.nextLink'];
      while (next) {
        const b = (await (await small.get(next)).json()) as Body;
        ids.push(...b.value.map((r) => r['id']));
        next = b['@odata.nextLink'];
      }
      assert.deepEqual(ids, Array.from({ length: 200 }, (_, i) => i + 1));
    } finally {
      await small.stop();
    }
  });
});
