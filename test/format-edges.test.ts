/**
 * Edges of the formats found by a black-box probe (2026-11-29, third round): an ETag is never null and
 * changes with every write (a version column nothing maintains is ignored), the 4.01 `@etag` of a body is honoured, error bodies name their metadata level, cast to Edm.String gives
 * the payload form, Decimal facets stay within OData's rules for PostgreSQL's wider numeric typmods,
 * CSDL XML keeps line breaks of comments, a renamed column never takes a real column's name, and
 * non-ASCII entity-set names are percent-encoded in links.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { readJson } from './helpers/http.js';

const FIXTURE = `
create table public.doc (id int primary key, title text, modstamp timestamptz);
insert into public.doc values (1, 'one', '2024-01-01 00:00:00+00'), (2, 'two', null);
create function touch() returns trigger language plpgsql as $$ begin if old.modstamp is not null then new.modstamp := clock_timestamp(); end if; return new; end $$;
create trigger doc_touch before update on public.doc for each row execute function touch();
create table public.loose (id int primary key, label text, updated_at timestamptz default now());
insert into public.loose values (1, 'a', '2024-01-01 00:00:00+00');
create table public.floats (id int primary key, r real, d double precision, b bytea);
insert into public.floats values (1, 'Infinity', '-Infinity', '\\xfbff'), (2, 1.5, 'NaN', '\\x00');
create table public.odd (id int primary key, small numeric(3,5), big numeric(5,-2), "a b" int, a_b int);
insert into public.odd values (1, 0.00123, 9999900, 1, 2);
comment on table public.odd is E'first line\\nsecond\\tline\\r\\nthird';
comment on column public.odd.small is E'x\\ny';
create table public."straße" (id int primary key, name text);
insert into public."straße" values (1, 'eins');
`;

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, {
    expose: [{ name: 'public.doc', versionColumn: 'modstamp' }, { name: 'public.loose', versionColumn: 'updated_at' }, 'public.floats', 'public.odd', 'public.straße'],
    pageSize: 100,
  });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

describe('ETags', () => {
  it('a null version column is the ETag W/"null" everywhere, and If-Match with it succeeds', async () => {
    const list = await readJson(await srv.get('doc?$orderby=id'));
    assert.deepEqual(list['value'].map((e: Record<string, unknown>) => e['@odata.etag']), [list['value'][0]['@odata.etag'], 'W/"null"']);
    assert.match(list['value'][0]['@odata.etag'], /^W\/"[0-9a-f]{32}"$/);
    const one = await srv.get('doc(2)');
    assert.equal(one.headers.get('etag'), 'W/"null"');
    assert.equal((await readJson(one))['@odata.etag'], 'W/"null"');
    const stale = await srv.request('PATCH', 'doc(2)', { headers: { 'If-Match': 'W/"0123"' }, body: { title: 'no' } });
    assert.equal(stale.status, 412);
    const ok = await srv.request('PATCH', 'doc(2)', { headers: { 'If-Match': 'W/"null"' }, body: { title: 'deux' } });
    assert.equal(ok.status, 204, await ok.text());
    assert.equal((await db.query<Record<string, any>>('select title from public.doc where id = 2'))[0]!.title, 'deux');
  });

  it('a version column that no trigger maintains is ignored (with a warning): ETags change on every write, a stale one is 412', async () => {
    assert.ok(srv.logs.some((l) => l.includes('public.loose.updated_at: versionColumn ignored')), 'warned at start');
    const xml = await (await srv.get('$metadata')).text();
    assert.ok(!xml.includes('<PropertyPath>updated_at</PropertyPath>'), 'no OptimisticConcurrency on updated_at');
    const first = (await srv.get('loose(1)')).headers.get('etag')!;
    const a = await srv.request('PATCH', 'loose(1)', { headers: { 'If-Match': first }, body: { label: 'client A' } });
    assert.equal(a.status, 204, await a.text());
    assert.notEqual(a.headers.get('etag'), first);
    const b = await srv.request('PATCH', 'loose(1)', { headers: { 'If-Match': first }, body: { label: 'client B, stale' } });
    assert.equal(b.status, 412);
    assert.equal((await db.query<Record<string, any>>('select label from public.loose where id = 1'))[0]!.label, 'client A');
  });

  it('a 4.01 body carries the ETag as @etag too: a stale one is 412 and nothing changes', async () => {
    const etag = (await readJson(await srv.get('doc(1)')))['@odata.etag'] as string;
    const stale = await srv.request('PATCH', 'doc(1)', { headers: { 'OData-Version': '4.01' }, body: { '@etag': 'W/"stale"', title: 'changed' } });
    const err = await readJson(stale);
    assert.equal(stale.status, 412);
    assert.equal(err['error']['code'], 'PreconditionFailed');
    assert.equal((await db.query<Record<string, any>>('select title from public.doc where id = 1'))[0]!.title, 'one');
    const ok = await srv.request('PATCH', 'doc(1)', { headers: { 'OData-Version': '4.01' }, body: { '@etag': etag, title: 'uno' } });
    assert.equal(ok.status, 204, await ok.text());
    assert.equal((await db.query<Record<string, any>>('select title from public.doc where id = 1'))[0]!.title, 'uno');
  });

  it('a 4.01 body names its type as @type; a wrong one is 400 and nothing is written', async () => {
    const res = await srv.request('POST', 'doc', { headers: { 'OData-Version': '4.01' }, body: { '@type': '#Other.Thing', id: 9, title: 'x' } });
    const err = await readJson(res);
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(err), /@type must be #/);
    assert.equal((await db.query<Record<string, any>>('select count(*)::int as n from public.doc where id = 9'))[0]!.n, 0);
  });
});

describe('errors', () => {
  it('an error body is labelled application/json with odata.metadata=minimal (JSON Format 4.1)', async () => {
    const res = await srv.get('nosuch');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json;odata\.metadata=minimal/);
    assert.equal((await readJson(res))['error']['code'], 'EntitySetNotFound');
  });
});

describe('cast to Edm.String is the payload form (URL Conventions 5.1.1.10.1)', () => {
  const ids = async (filter: string): Promise<unknown[]> => {
    const res = await srv.get(`floats?$select=id&$filter=${encodeURIComponent(filter)}`);
    const body = await readJson(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    return body['value'].map((e: Record<string, unknown>) => e['id']);
  };
  it('floats: INF, -INF and NaN as in JSON', async () => {
    assert.deepEqual(await ids("cast(r,Edm.String) eq 'INF'"), [1]);
    assert.deepEqual(await ids("cast(d,Edm.String) eq '-INF'"), [1]);
    assert.deepEqual(await ids("cast(d,Edm.String) eq 'NaN'"), [2]);
    assert.deepEqual(await ids("cast(r,Edm.String) eq 'Infinity'"), []);
  });
  it('binary: base64url, as the payload shows it', async () => {
    const payload = (await readJson(await srv.get('floats(1)/b')))['value'];
    assert.equal(payload, '-_8=');
    assert.deepEqual(await ids(`cast(b,Edm.String) eq '${payload}'`), [1]);
    assert.deepEqual(await ids("cast(b,Edm.String) eq '+/8='"), []);
  });
});

describe('$metadata edges', () => {
  it('Decimal facets keep 0 <= Scale <= Precision for numeric(3,5) and numeric(5,-2)', async () => {
    const xml = await (await srv.get('$metadata')).text();
    assert.match(xml, /<Property Name="small" Type="Edm\.Decimal" Precision="5" Scale="5"/);
    assert.match(xml, /<Property Name="big" Type="Edm\.Decimal" Precision="7" Scale="0"/);
    const row = await readJson(await srv.get('odd(1)'));
    assert.equal(row['big'], 9999900);
    assert.equal(row['small'], 0.00123);
  });

  it('line breaks and tabs of comments survive in CSDL XML as character references', async () => {
    const xml = await (await srv.get('$metadata')).text();
    assert.ok(xml.includes('first line&#10;second&#9;line&#13;&#10;third'), xml.slice(0, 2000));
    assert.ok(xml.includes('x&#10;y'));
    const csdl = await readJson(await srv.get('$metadata?$format=json', { 'OData-MaxVersion': '4.01' }));
    assert.ok(JSON.stringify(csdl).includes('first line\\nsecond\\tline\\r\\nthird'));
  });

  it('a renamed column ("a b") never takes a real column\'s name (a_b): it gets a numbered one', async () => {
    const row = await readJson(await srv.get('odd(1)'));
    assert.equal(row['a_b'], 2);
    assert.equal(row['a_b_2'], 1);
    assert.ok(srv.logs.some((l) => l.includes('a_b_2')), 'the renaming is logged');
  });
});

describe('non-ASCII entity-set names', () => {
  it('are percent-encoded in @odata.id, editLink and the service document url', async () => {
    const full = await readJson(await srv.get(`${encodeURIComponent('straße')}(1)`, { Accept: 'application/json;odata.metadata=full' }));
    assert.equal(full['@odata.id'], `${srv.root}stra%C3%9Fe(1)`);
    assert.equal(full['@odata.editLink'], 'stra%C3%9Fe(1)');
    const doc = await readJson(await srv.get(''));
    const entry = doc['value'].find((s: Record<string, unknown>) => s['name'] === 'straße');
    assert.equal(entry['url'], 'stra%C3%9Fe');
    const followed = await readJson(await srv.get(full['@odata.id'] as string));
    assert.equal(followed['name'], 'eins');
  });
});
