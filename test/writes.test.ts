/**
 * Writes end to end over HTTP against a real PostgreSQL: POST/PATCH/PUT/DELETE with each status they
 * can answer (201/204/200/404/405/400/403/409/412/413/415/428), X-HTTP-Method tunnelling, If-Match with
 * a version column (bumped by a trigger) and with content-hash ETags, and the database checked after
 * every request, not only the response.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table owner (id int primary key, name text not null);
insert into owner values (1, 'Ann'), (2, 'Bob');
create table item (
  id serial primary key,
  name varchar(20) not null,
  price numeric(18,2),
  qty int not null default 1,
  note text default 'none',
  code text unique,
  big bigint,
  total numeric generated always as (price * qty) stored,
  version int not null default 1,
  owner_id int references owner(id),
  made timestamp,
  constraint qty_nonnegative check (qty >= 0)
);
create function bump_version() returns trigger language plpgsql as $$ begin new.version := old.version + 1; return new; end $$;
create trigger item_bump before update on item for each row execute function bump_version();
insert into item (name, price, qty, code, owner_id) values ('first', 10.50, 2, 'A1', 1), ('second', 3.00, 1, 'B2', 2);
create table ident (id int generated always as identity primary key, label text);
create table plain (id int primary key, label text not null, n int);
insert into plain values (1, 'one', 1), (2, 'two', 2);
create table locked (id int primary key, v text);
insert into locked values (1, 'x');
create table ro (id int primary key, v text);
insert into ro values (1, 'x');
create view item_view as select id, name from item;
create table blob (id int primary key, data bytea);
create table secretive (id int primary key, label text, api_key text not null);
create function no_secret() returns trigger language plpgsql as $$ begin if new.label = 'secret' then raise exception 'labels may not be secret'; end if; return new; end $$;
create trigger plain_rule before insert or update on plain for each row execute function no_secret();
insert into blob values (1, '\\x00ff'::bytea);
`;

let db: TestDb;
let srv: TestServer;
let authSrv: TestServer;
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, {
    server: { rootPath: '/odata/v4', maxBodyBytes: 4096 },
    expose: [
      { name: 'public.item', versionColumn: 'version', readOnlyColumns: ['note'] },
      'public.owner',
      'public.ident',
      'public.plain',
      { name: 'public.locked', requireIfMatch: true },
      { name: 'public.ro', readOnly: true },
      'public.item_view',
      'public.blob',
      { name: 'public.secretive', columns: ['id', 'label'] },
    ],
  });
  authSrv = await startTestServer(db.url, {
    expose: ['public.plain', 'public.owner', 'public.item'],
    auth: { open: false, users: [{ name: 'w', password: 'writer-secret-1234', read: ['plain', 'owner'], write: ['plain'] }] },
  });
});
after(async () => {
  await srv?.stop();
  await authSrv?.stop();
  await db?.drop();
});

const json = async (r: Response): Promise<Record<string, unknown>> => (await r.json()) as Record<string, unknown>;
const row = async (sql: string, values: unknown[] = []): Promise<Record<string, unknown> | undefined> => (await db.query(sql, values))[0];
const count = async (table: string): Promise<number> => Number((await row(`select count(*)::int as n from ${table}`))!['n']);

describe('POST creates', () => {
  it('201 with Location, ETag and the entity as reads render it (server-generated key, defaults, generated columns)', async () => {
    const r = await srv.request('POST', 'item', {
      body: '{"name":"new","price":"1234567890123456.78","qty":3,"big":9007199254740993}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 201);
    const body = await json(r);
    const id = body['id'] as number;
    assert.equal(r.headers.get('location'), `${srv.root}item(${id})`);
    assert.match(r.headers.get('etag')!, /^W\/"[0-9a-f]{32}"$/);
    assert.equal(body['@odata.context'], `${srv.root}$metadata#item/$entity`);
    assert.equal(body['@odata.etag'], r.headers.get('etag'));
    assert.equal(body['note'], 'none'); // column default
    assert.equal(body['version'], 1);
    // The same entity read back is byte-identical (same JSON building in SQL).
    const read = await srv.get(`item(${id})`);
    assert.deepEqual(await read.json(), body);
    const dbRow = await row('select price::text, big::text, total::text, qty, note from item where id = $1', [id]);
    assert.deepEqual(dbRow, { price: '1234567890123456.78', big: '9007199254740993', total: '3703703670370370.34', qty: 3, note: 'none' });
  });

  it('keeps every digit of big numbers in the response (raw JSON text)', async () => {
    const r = await srv.request('POST', 'item', { body: '{"name":"digits","price":98765432109876.54,"big":9223372036854775807}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201);
    const text = await r.text();
    assert.match(text, /"price" ?: ?98765432109876\.54[,}]/);
    assert.match(text, /"big" ?: ?9223372036854775807[,}]/);
    const r2 = await srv.request('POST', 'item', { body: { name: 'ieee', big: '42' }, headers: { Accept: 'application/json;IEEE754Compatible=true' } });
    assert.equal(r2.status, 201);
    assert.equal((await json(r2))['big'], '42');
  });

  it('204 with OData-EntityId and Location under Prefer: return=minimal', async () => {
    const before_ = await count('item');
    const r = await srv.request('POST', 'item', { body: { name: 'minimal' }, headers: { Prefer: 'return=minimal' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('preference-applied'), 'return=minimal');
    const loc = r.headers.get('location')!;
    assert.equal(r.headers.get('odata-entityid'), loc);
    const id = Number(/item\((\d+)\)$/.exec(loc)![1]);
    assert.equal(await count('item'), before_ + 1);
    assert.equal((await row('select name from item where id = $1', [id]))!['name'], 'minimal');
  });

  it('accepts a value for a serial key, and @-annotations are ignored', async () => {
    const r = await srv.request('POST', 'item', { body: { '@odata.type': `#${srv.config.namespace}.item`, '@odata.etag': 'W/"x"', 'name@odata.type': '#String', id: 500, name: 'explicit key' } });
    assert.equal(r.status, 201, await r.clone().text());
    assert.equal((await row('select name from item where id = 500'))!['name'], 'explicit key');
  });

  it('ignores values for an identity ALWAYS key, a generated column and a config read-only column (Protocol 11.4.2)', async () => {
    const before_ = await count('ident');
    const r = await srv.request('POST', 'ident', { body: { id: 7, label: 'x' } });
    assert.equal(r.status, 201, await r.clone().text());
    const made = (await json(r))['id'] as number;
    assert.notEqual(made, 7);
    assert.equal(await count('ident'), before_ + 1);
    assert.equal((await row('select label from ident where id = $1', [made]))!['label'], 'x');
    const r2 = await srv.request('POST', 'item', { body: { name: 'ro-ignored', price: 2, qty: 3, total: 1, note: 'n' } });
    assert.equal(r2.status, 201, await r2.clone().text());
    assert.deepEqual(await row("select note, total::text from item where name = 'ro-ignored'"), { note: 'none', total: '6.00' });
  });

  it('a missing required property is a 400 before any SQL; not-null by the database is a 400 too', async () => {
    const r = await srv.request('POST', 'plain', { body: { id: 9 } });
    assert.equal(r.status, 400);
    assert.equal(((await json(r))['error'] as { details: { target: string }[] }).details[0]!.target, 'label');
    assert.equal(await row('select * from plain where id = 9'), undefined);
  });

  it('409 on a unique violation and on a foreign key violation, naming constraint and column, no SQL text', async () => {
    const r = await srv.request('POST', 'item', { body: { name: 'dup', code: 'A1' } });
    assert.equal(r.status, 409);
    const e = (await json(r))['error'] as { code: string; message: string; target: string };
    assert.equal(e.code, 'Conflict');
    assert.match(e.message, /item_code_key/);
    assert.equal(e.target, 'code');
    assert.doesNotMatch(e.message, /insert|returning|select/i);
    const r2 = await srv.request('POST', 'item', { body: { name: 'fk', owner_id: 99 } });
    assert.equal(r2.status, 409);
    assert.match(((await json(r2))['error'] as { message: string }).message, /item_owner_id_fkey/);
    assert.equal(await row("select 1 from item where name in ('dup', 'fk')"), undefined);
    // deleting a referenced owner is refused too
    const r3 = await srv.request('DELETE', 'owner(1)');
    assert.equal(r3.status, 409);
    assert.ok(await row('select 1 from owner where id = 1'));
  });

  it('400 on a check constraint, naming it', async () => {
    const r = await srv.request('POST', 'item', { body: { name: 'neg', qty: -1 } });
    assert.equal(r.status, 400);
    assert.match(((await json(r))['error'] as { message: string }).message, /qty_nonnegative/);
    assert.equal(await row("select 1 from item where name = 'neg'"), undefined);
  });

  it('a constraint on a column outside the allow-list is refused without naming it', async () => {
    const r = await srv.request('POST', 'secretive', { body: { id: 1, label: 'x' } });
    assert.equal(r.status, 400);
    const text = await r.text();
    assert.doesNotMatch(text, /api_key/);
    assert.deepEqual((JSON.parse(text) as { error: unknown }).error, { code: 'ConstraintViolation', message: 'The change violates a rule of the database on data that this service does not expose.' });
    assert.equal(await count('secretive'), 0);
  });

  it("400 when a trigger raises an exception (the database's business rule), with its message; nothing written", async () => {
    for (const [m, url] of [['POST', 'plain'], ['PATCH', 'plain(2)']] as const) {
      const r = await srv.request(m, url, { body: m === 'POST' ? { id: 80, label: 'secret' } : { label: 'secret' } });
      assert.equal(r.status, 400, m);
      assert.deepEqual((await json(r))['error'], { code: 'ConstraintViolation', message: 'The database refused the change: labels may not be secret' });
    }
    assert.equal(await row('select 1 from plain where id = 80'), undefined);
    assert.equal((await row('select label from plain where id = 2'))!['label'], 'two');
  });

  it('timestamp without time zone takes DateTimeOffset values converted to UTC', async () => {
    const r = await srv.request('POST', 'item', { body: { name: 'ts', made: '2024-05-01T12:30:00+02:00' } });
    assert.equal(r.status, 201);
    assert.equal(Date.parse((await json(r))['made'] as string), Date.parse('2024-05-01T10:30:00Z'));
    assert.equal((await row("select made::text from item where name = 'ts'"))!['made'], '2024-05-01 10:30:00');
  });
});

describe('media type, size and shape of the body', () => {
  it('415 for a non-JSON Content-Type, 400 for malformed JSON or a non-object, accepted without Content-Type', async () => {
    const n = await count('plain');
    const r1 = await srv.request('POST', 'plain', { body: 'id=5', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r1.status, 415);
    assert.equal(((await json(r1))['error'] as { code: string }).code, 'UnsupportedMediaType');
    const r2 = await srv.request('POST', 'plain', { body: '{"id": 5,', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r2.status, 400);
    const r3 = await srv.request('POST', 'plain', { body: '[1,2]', headers: { 'Content-Type': 'application/json;charset=utf-8' } });
    assert.equal(r3.status, 400);
    assert.equal(await count('plain'), n);
    const r4 = await fetch(`${srv.root}plain`, { method: 'POST', body: new TextEncoder().encode('{"id":5,"label":"five"}') });
    assert.equal(r4.status, 201);
    assert.equal(await count('plain'), n + 1);
  });

  it('bodies that would make huge errors or exhaust the parser are refused short: many members, deep nesting, compression', async () => {
    const n = await count('plain');
    const many: Record<string, number> = { id: 90 };
    for (let i = 0; i < 20_000; i++) many[`p${i}`] = i;
    const w = { Authorization: basic('w', 'writer-secret-1234'), 'Content-Type': 'application/json' };
    const big = await authSrv.request('POST', 'plain', { body: JSON.stringify(many), headers: w });
    assert.equal(big.status, 400);
    const err = ((await big.json()) as { error: { code: string; message: string; details?: unknown[] } }).error;
    assert.match(err.message, /has 20001 members; plain has 3 properties/);
    assert.equal(err.details, undefined);
    const unknown: Record<string, number> = { id: 90, label: 1 as unknown as number };
    for (let i = 0; i < 8; i++) unknown[`u${i}`] = i;
    const listed = ((await (await srv.request('POST', 'plain', { body: unknown })).json()) as { error: { details: unknown[] } }).error;
    assert.equal(listed.details.length, 9, 'a few offending members are each listed');
    const deep = await authSrv.request('POST', 'plain', { body: `{"id":91,"label":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, headers: w });
    assert.equal(deep.status, 400);
    assert.deepEqual(((await deep.json()) as { error: unknown }).error, { code: 'InvalidBody', message: 'The request body is nested too deeply.' });
    const gz = await fetch(`${srv.root}plain`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: Buffer.from([0x1f, 0x8b, 0x08, 0x00]) });
    assert.equal(gz.status, 415);
    assert.match(((await gz.json()) as { error: { message: string } }).error.message, /Content-Encoding gzip/);
    assert.equal(await count('plain'), n);
  });

  it('400 for bytes that are not UTF-8, 415 for a charset other than UTF-8; nothing written (RFC 8259 8.1)', async () => {
    const n = await count('plain');
    const bad = Buffer.concat([Buffer.from('{"id":6,"label":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r1 = await fetch(`${srv.root}plain`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bad });
    assert.equal(r1.status, 400);
    assert.deepEqual(((await json(r1))['error'] as { code: string; message: string }), { code: 'InvalidBody', message: 'The request body is not valid UTF-8.' });
    const latin1 = Buffer.from('{"id":6,"label":"caf\u00e9"}', 'latin1');
    const r2 = await fetch(`${srv.root}plain`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=iso-8859-1' }, body: latin1 });
    assert.equal(r2.status, 415);
    assert.match(((await json(r2))['error'] as { message: string }).message, /must be UTF-8, not charset iso-8859-1/);
    const r3 = await fetch(`${srv.root}plain(1)`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: bad });
    assert.equal(r3.status, 400);
    assert.equal(await count('plain'), n);
    assert.equal(await row('select 1 from plain where id = 6'), undefined);
    const ok = await fetch(`${srv.root}plain`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: '{"id":6,"label":"caf\u00e9"}' });
    assert.equal(ok.status, 201);
    assert.equal((await row('select label from plain where id = 6'))!['label'], 'caf\u00e9');
  });

  it('413 for a body over server.maxBodyBytes, nothing written', async () => {
    const n = await count('plain');
    const r = await srv.request('POST', 'plain', { body: { id: 77, label: 'x'.repeat(5000) } });
    assert.equal(r.status, 413);
    assert.equal(((await json(r))['error'] as { code: string }).code, 'PayloadTooLarge');
    assert.equal(await count('plain'), n);
    // chunked upload without Content-Length is cut off as well
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"id":78,"label":"' : 'y'.repeat(1000)));
        c.enqueue(new TextEncoder().encode('"}'));
        c.close();
      },
    });
    const r2 = await fetch(`${srv.root}plain`, { method: 'POST', body: stream, headers: { 'Content-Type': 'application/json' }, duplex: 'half' } as RequestInit);
    assert.equal(r2.status, 413);
    assert.equal(await count('plain'), n);
  });

  it('reads a body whole however it arrives: with the head, in pieces after it, or chunked', async () => {
    const url = new URL(srv.root);
    // Sends `parts` on one connection, pausing between them; resolves with the status line and body.
    const exchange = (parts: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = connect(Number(url.port), url.hostname);
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('end', () => resolve(got));
        sock.on('error', reject);
        sock.on('connect', async () => {
          for (const p of parts) {
            sock.write(p);
            await new Promise((r) => setTimeout(r, 30));
          }
        });
      });
    const head = (len: number | 'chunked'): string =>
      `POST ${url.pathname}plain HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nConnection: close\r\n` +
      (len === 'chunked' ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${len}\r\n\r\n`);
    const body = (id: number): string => `{"id":${id},"label":"piece ${id}"}`;
    const b1 = body(91), b2 = body(92), b3 = body(93);
    const whole = await exchange([head(b1.length) + b1]);
    const pieces = await exchange([head(b2.length), b2.slice(0, 7), b2.slice(7)]);
    const chunked = await exchange([head('chunked'), `${b3.length.toString(16)}\r\n${b3}\r\n`, '0\r\n\r\n']);
    for (const [answer, id] of [[whole, 91], [pieces, 92], [chunked, 93]] as const) {
      assert.match(answer, /^HTTP\/1\.1 201 /, answer.slice(0, 300));
      assert.match(answer, new RegExp(`"label" ?: ?"piece ${id}"`));
      assert.equal((await row('select label from plain where id = $1', [id]))!['label'], `piece ${id}`);
    }
  });
});

describe('PATCH, PUT and DELETE', () => {
  it('PATCH updates only the sent properties: 204 with the new ETag; 200 with the entity under return=representation', async () => {
    const r = await srv.request('PATCH', 'plain(2)', { body: { n: 20 } });
    assert.equal(r.status, 204);
    assert.match(r.headers.get('etag')!, /^W\/"/);
    assert.deepEqual(await row('select label, n from plain where id = 2'), { label: 'two', n: 20 });
    const r2 = await srv.request('PATCH', 'plain(2)', { body: { label: 'TWO' }, headers: { Prefer: 'return=representation' } });
    assert.equal(r2.status, 200);
    assert.equal(r2.headers.get('preference-applied'), 'return=representation');
    const b = await json(r2);
    assert.equal(b['label'], 'TWO');
    assert.equal(b['n'], 20);
    assert.equal(b['@odata.etag'], r2.headers.get('etag'));
    assert.deepEqual(await row('select label, n from plain where id = 2'), { label: 'TWO', n: 20 });
  });

  it('PUT replaces: properties not sent return to their default or null; computed columns untouched', async () => {
    const id = (await row("insert into item (name, price, qty, code, owner_id) values ('put me', 5, 4, 'P1', 1) returning id"))!['id'];
    const r = await srv.request('PUT', `item(${id})`, { body: { name: 'replaced', price: 2 } });
    assert.equal(r.status, 204);
    const after_ = await row('select name, price::text, qty, code, owner_id, note, total::text, version from item where id = $1', [id]);
    assert.deepEqual(after_, { name: 'replaced', price: '2.00', qty: 1, code: null, owner_id: null, note: 'none', total: '2.00', version: 2 });
  });

  it('key, computed and read-only properties in the body are ignored (Protocol 11.4.3; Salesforce sends every field)', async () => {
    const r = await srv.request('PATCH', 'plain(1)', { body: { id: 1, label: 'uno', n: 1 } });
    assert.equal(r.status, 204);
    assert.equal((await row('select label from plain where id = 1'))!['label'], 'uno');
    const r2 = await srv.request('PATCH', 'plain(1)', { body: { id: 3, label: 'tres' } });
    assert.equal(r2.status, 204);
    assert.equal((await row('select label from plain where id = 1'))!['label'], 'tres');
    assert.equal(await row('select 1 from plain where id = 3'), undefined);
    const got = await json(await srv.get('item(2)'));
    const put = await srv.request('PUT', 'item(2)', { body: { ...got, id: 99, name: 'round trip', total: 12345, note: 'changed?' } });
    assert.equal(put.status, 204, await put.clone().text());
    assert.deepEqual(await row('select id, name, note, total::text from item where id = 2'), { id: 2, name: 'round trip', note: 'none', total: '3.00' });
    assert.equal(await row('select 1 from item where id = 99'), undefined);
  });

  it('$select shapes the representation of a create or update (Protocol 11.4.2, 11.4.3); an unknown one is a 400 before writing', async () => {
    const c = await srv.request('POST', 'plain?$select=label', { body: { id: 95, label: 'sel', n: 9 }, headers: { Prefer: 'return=minimal' } });
    assert.equal(c.status, 201, 'return=minimal does not apply when $select asks for content');
    const cb = await json(c);
    assert.deepEqual(Object.keys(cb).filter((k) => !k.startsWith('@')), ['label']);
    assert.equal(cb['@odata.id'], `${srv.root}plain(95)`, 'the key is not selected: the entity carries its id');
    assert.match(String(cb['@odata.context']), /\$metadata#plain\(label\)\/\$entity$/);
    const u = await srv.request('PATCH', 'plain(95)?$select=id,n', { body: { n: 10 } });
    assert.equal(u.status, 200);
    const ub = await json(u);
    assert.equal(ub['n'], 10);
    assert.equal(ub['id'], 95);
    assert.equal(ub['label'], undefined);
    const bad = await srv.request('PATCH', 'plain(95)?$select=nosuch', { body: { n: 11 } });
    assert.equal(bad.status, 400);
    const badPost = await srv.request('POST', 'plain?$select=nosuch', { body: { id: 96, label: 'no' } });
    assert.equal(badPost.status, 400);
    assert.deepEqual(await row('select n from plain where id = 95'), { n: 10 });
    assert.equal(await row('select 1 from plain where id = 96'), undefined);
  });

  it('X-HTTP-Method tunnelling: POST + PATCH / DELETE', async () => {
    const r = await srv.request('POST', 'plain(1)', { body: { n: 11 }, headers: { 'X-HTTP-Method': 'PATCH' } });
    assert.equal(r.status, 204);
    assert.equal((await row('select n from plain where id = 1'))!['n'], 11);
  });

  it('DELETE removes: 204 with no body, also under return=representation (Protocol 8.2.8.7: no effect on DELETE)', async () => {
    await db.query("insert into plain values (40, 'forty', 40), (41, 'forty-one', 41)");
    const r = await srv.request('DELETE', 'plain(40)');
    assert.equal(r.status, 204);
    assert.equal(await row('select 1 from plain where id = 40'), undefined);
    const r2 = await srv.request('DELETE', 'plain(41)', { headers: { Prefer: 'return=representation' } });
    assert.equal(r2.status, 204);
    assert.equal(await r2.text(), '');
    assert.equal(r2.headers.get('preference-applied'), null);
    assert.equal(await row('select 1 from plain where id = 41'), undefined);
  });

  it('404 for a missing key, nothing changed', async () => {
    const n = await count('plain');
    assert.equal((await srv.request('PATCH', 'plain(999)', { body: { n: 1 } })).status, 404);
    assert.equal((await srv.request('PUT', 'plain(999)', { body: { label: 'x' } })).status, 404);
    assert.equal((await srv.request('DELETE', 'plain(999)')).status, 404);
    assert.equal((await srv.request('DELETE', 'plain(999)', { headers: { 'If-Match': '*' } })).status, 404);
    assert.equal((await srv.request('PATCH', 'nosuchset(1)', { body: { n: 1 } })).status, 404);
    assert.equal(await count('plain'), n);
  });

  it('405 with Allow for PATCH/PUT/DELETE on a collection, POST on an entity, writes to views and read-only sets', async () => {
    const cases: [string, string, string][] = [
      ['PATCH', 'plain', 'GET, HEAD, POST'],
      ['DELETE', 'plain', 'GET, HEAD, POST'],
      ['PUT', 'plain', 'GET, HEAD, POST'],
      ['POST', 'plain(1)', 'GET, HEAD, PATCH, PUT, DELETE'],
      ['POST', 'item_view', 'GET, HEAD'],
      ['PATCH', 'item_view(1)', 'GET, HEAD'],
      ['DELETE', 'ro(1)', 'GET, HEAD'],
      ['POST', 'ro', 'GET, HEAD'],
    ];
    for (const [m, p, allow] of cases) {
      const r = await srv.request(m, p, { body: { v: 'y' } });
      assert.equal(r.status, 405, `${m} ${p}`);
      assert.equal(r.headers.get('allow'), allow, `${m} ${p}`);
    }
    assert.equal((await row('select v from ro where id = 1'))!['v'], 'x');
    assert.equal(await count('plain'), Number((await row('select count(*)::int as n from plain'))!['n']));
  });

  it('403 for a set the user may read but not write, 404 for one the user may not read', async () => {
    const auth = { Authorization: basic('w', 'writer-secret-1234') };
    const r = await authSrv.request('PATCH', 'owner(2)', { body: { name: 'X' }, headers: auth });
    assert.equal(r.status, 403);
    assert.equal((await row('select name from owner where id = 2'))!['name'], 'Bob');
    const r2 = await authSrv.request('DELETE', 'item(1)', { headers: auth });
    assert.equal(r2.status, 404);
    assert.ok(await row('select 1 from item where id = 1'));
    const r3 = await authSrv.request('PATCH', 'plain(2)', { body: { n: 22 }, headers: auth });
    assert.equal(r3.status, 204);
    assert.equal((await row('select n from plain where id = 2'))!['n'], 22);
  });
});

describe('optimistic concurrency', () => {
  it('version column: If-Match with the current ETag wins and gets the new ETag; the old ETag then gets 412', async () => {
    const g = await srv.get('item(1)');
    const etag = g.headers.get('etag')!;
    const v0 = (await row('select version from item where id = 1'))!['version'] as number;
    const r = await srv.request('PATCH', 'item(1)', { body: { name: 'v-new' }, headers: { 'If-Match': etag } });
    assert.equal(r.status, 204);
    const newTag = r.headers.get('etag')!;
    assert.notEqual(newTag, etag);
    assert.equal((await srv.get('item(1)')).headers.get('etag'), newTag);
    assert.deepEqual(await row('select name, version from item where id = 1'), { name: 'v-new', version: v0 + 1 });
    const stale = await srv.request('PATCH', 'item(1)', { body: { name: 'stale' }, headers: { 'If-Match': etag } });
    assert.equal(stale.status, 412);
    assert.equal(((await json(stale))['error'] as { code: string }).code, 'PreconditionFailed');
    const staleDel = await srv.request('DELETE', 'item(1)', { headers: { 'If-Match': etag } });
    assert.equal(staleDel.status, 412);
    assert.deepEqual(await row('select name, version from item where id = 1'), { name: 'v-new', version: v0 + 1 });
    // strong form, a list, and * all match
    const strong = newTag.replace(/^W\//, '');
    const r2 = await srv.request('PATCH', 'item(1)', { body: { qty: 5 }, headers: { 'If-Match': `W/"nope", ${strong}` } });
    assert.equal(r2.status, 204);
    const r3 = await srv.request('PATCH', 'item(1)', { body: { qty: 6 }, headers: { 'If-Match': '*' } });
    assert.equal(r3.status, 204);
    assert.deepEqual(await row('select qty, version from item where id = 1'), { qty: 6, version: v0 + 3 });
  });

  it('content-hash ETag (no version column): PUT and DELETE with If-Match', async () => {
    await db.query("insert into plain values (60, 'sixty', 60)");
    const etag = (await srv.get('plain(60)')).headers.get('etag')!;
    const r = await srv.request('PUT', 'plain(60)', { body: { label: 'SIXTY' }, headers: { 'If-Match': etag } });
    assert.equal(r.status, 204);
    assert.deepEqual(await row('select label, n from plain where id = 60'), { label: 'SIXTY', n: null });
    assert.equal((await srv.request('DELETE', 'plain(60)', { headers: { 'If-Match': etag } })).status, 412);
    assert.ok(await row('select 1 from plain where id = 60'));
    assert.equal((await srv.request('DELETE', 'plain(60)', { headers: { 'If-Match': r.headers.get('etag')! } })).status, 204);
    assert.equal(await row('select 1 from plain where id = 60'), undefined);
  });

  it('428 without If-Match when the set requires it; accepted with it', async () => {
    const r = await srv.request('PATCH', 'locked(1)', { body: { v: 'y' } });
    assert.equal(r.status, 428);
    assert.equal((await srv.request('DELETE', 'locked(1)')).status, 428);
    assert.equal((await row('select v from locked where id = 1'))!['v'], 'x');
    const etag = (await srv.get('locked(1)')).headers.get('etag')!;
    assert.equal((await srv.request('PATCH', 'locked(1)', { body: { v: 'y' }, headers: { 'If-Match': etag } })).status, 204);
    assert.equal((await row('select v from locked where id = 1'))!['v'], 'y');
  });

  it('400 for a malformed If-Match or If-None-Match', async () => {
    assert.equal((await srv.request('PATCH', 'plain(1)', { body: { n: 1 }, headers: { 'If-Match': 'abc' } })).status, 400);
    assert.equal((await srv.request('PATCH', 'plain(1)', { body: { n: 1 }, headers: { 'If-None-Match': 'abc' } })).status, 400);
  });

  it('If-None-Match on updates and deletes (Protocol 8.2.5): * or the current ETag is 412 and nothing changes; another ETag writes', async () => {
    await db.query("insert into plain values (70, 'seventy', 70)");
    const etag = (await srv.get('plain(70)')).headers.get('etag')!;
    const refused: [string, string, unknown, string][] = [
      ['PATCH', 'plain(70)', { n: 1 }, '*'],
      ['PUT', 'plain(70)', { label: 'x' }, '*'],
      ['DELETE', 'plain(70)', undefined, '*'],
      ['PUT', 'plain(70)/n', { value: 2 }, '*'],
      ['DELETE', 'plain(70)/n', undefined, '*'],
      ['PATCH', 'plain(70)', { n: 3 }, etag],
      ['DELETE', 'plain(70)', undefined, `W/"other", ${etag}`],
    ];
    for (const [m, url, body, inm] of refused) {
      const r = await srv.request(m, url, { ...(body === undefined ? {} : { body }), headers: { 'If-None-Match': inm } });
      assert.equal(r.status, 412, `${m} ${url} If-None-Match: ${inm}`);
      assert.equal(((await json(r))['error'] as { code: string }).code, 'PreconditionFailed');
    }
    assert.deepEqual(await row('select label, n from plain where id = 70'), { label: 'seventy', n: 70 });
    assert.equal((await srv.request('PATCH', 'plain(9070)', { body: { n: 1 }, headers: { 'If-None-Match': '*' } })).status, 404);
    const ok = await srv.request('PATCH', 'plain(70)', { body: { n: 71 }, headers: { 'If-None-Match': 'W/"other"' } });
    assert.equal(ok.status, 204);
    assert.deepEqual(await row('select label, n from plain where id = 70'), { label: 'seventy', n: 71 });
    assert.equal((await srv.request('DELETE', 'plain(70)', { headers: { 'If-None-Match': etag } })).status, 204, 'the old ETag no longer matches');
    assert.equal(await row('select 1 from plain where id = 70'), undefined);
  });

  it('OData 4.01: an @odata.etag in the body must match (Protocol 11.4.3); 4.0 requests ignore it', async () => {
    await db.query("insert into plain values (71, 'seventy-one', 71)");
    const etag = (await srv.get('plain(71)')).headers.get('etag')!;
    const v401 = { 'OData-Version': '4.01' };
    const stale = await srv.request('PATCH', 'plain(71)', { body: { '@odata.etag': 'W/"stale"', n: 1 }, headers: v401 });
    assert.equal(stale.status, 412);
    const stalePut = await srv.request('PUT', 'plain(71)', { body: { '@odata.etag': 'W/"stale"', label: 'x' }, headers: v401 });
    assert.equal(stalePut.status, 412);
    assert.deepEqual(await row('select label, n from plain where id = 71'), { label: 'seventy-one', n: 71 });
    const ok = await srv.request('PATCH', 'plain(71)', { body: { '@odata.etag': etag, n: 2 }, headers: v401 });
    assert.equal(ok.status, 204);
    const star = await srv.request('PATCH', 'plain(71)', { body: { '@odata.etag': '*', n: 3 }, headers: v401 });
    assert.equal(star.status, 204);
    const v40 = await srv.request('PATCH', 'plain(71)', { body: { '@odata.etag': 'W/"stale"', n: 4 }, headers: { 'OData-Version': '4.0' } });
    assert.equal(v40.status, 204);
    assert.deepEqual(await row('select n from plain where id = 71'), { n: 4 });
    const fresh = (await srv.get('locked(1)')).headers.get('etag')!;
    const locked = await srv.request('PATCH', 'locked(1)', { body: { '@odata.etag': fresh, v: 'via body etag' }, headers: v401 });
    assert.equal(locked.status, 204, 'a body ETag satisfies requireIfMatch');
  });
});

describe('writing one property (OData 11.4.9)', () => {
  const row = async (id: number): Promise<Record<string, unknown>> => (await db.query('select label, n from plain where id = $1', [id]))[0]!;
  before(async () => {
    await db.query("insert into plain values (50, 'fifty', 5) on conflict (id) do update set label = 'fifty', n = 5");
  });

  it('PUT {"value": ...} updates it: 204 with the new ETag; PATCH the same', async () => {
    const r = await srv.request('PUT', 'plain(50)/label', { body: { value: 'FIFTY' } });
    assert.equal(r.status, 204, await r.text());
    assert.match(r.headers.get('etag') ?? '', /^W\/"/);
    assert.deepEqual(await row(50), { label: 'FIFTY', n: 5 });
    const p = await srv.request('PATCH', 'plain(50)/n', { body: { value: 51 } });
    assert.equal(p.status, 204, await p.text());
    assert.deepEqual(await row(50), { label: 'FIFTY', n: 51 });
  });

  it('the raw value to /$value; return=representation answers the property', async () => {
    const r = await srv.request('PUT', 'plain(50)/n/$value', { headers: { 'Content-Type': 'text/plain' }, body: '52' });
    assert.equal(r.status, 204, await r.text());
    assert.equal((await row(50))['n'], 52);
    const s = await srv.request('PUT', 'plain(50)/label/$value', { headers: { 'Content-Type': 'text/plain', Prefer: 'return=representation' }, body: 'raw text' });
    assert.equal(s.status, 200);
    const body = (await s.json()) as Record<string, unknown>;
    assert.equal(body['value'], 'raw text');
    assert.match(String(body['@odata.context']), /\$metadata#plain\(50\)\/label$/);
  });

  it('the raw value of a binary property is its bytes, as GET /$value returns them (Protocol 11.4.9.2)', async () => {
    const bytes = Buffer.from([0x01, 0x02, 0xff, 0x00, 0x61]);
    const r = await fetch(`${srv.root}blob(1)/data/$value`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
    assert.equal(r.status, 204, await r.text());
    assert.equal((await db.query("select encode(data, 'hex') as h from blob where id = 1"))[0]!['h'], '0102ff0061');
    const g = await fetch(`${srv.root}blob(1)/data/$value`);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), bytes);
    const text = await fetch(`${srv.root}blob(1)/data/$value`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: 'abcd' });
    assert.equal(text.status, 204);
    assert.equal((await db.query("select encode(data, 'hex') as h from blob where id = 1"))[0]!['h'], '61626364', 'the bytes of "abcd", not its base64 decoding');
  });

  it('DELETE sets it to null; a NOT NULL property refuses with 400 and nothing changes', async () => {
    const d = await srv.request('DELETE', 'plain(50)/n');
    assert.equal(d.status, 204, await d.text());
    assert.equal((await row(50))['n'], null);
    const bad = await srv.request('DELETE', 'plain(50)/label');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'InvalidBody');
    assert.equal((await row(50))['label'], 'raw text');
  });

  it('refuses what cannot be written: a wrong type, a missing "value", an unknown property, the key, a missing entity, a read-only set, POST', async () => {
    const before_ = await row(50);
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', 'plain(50)/n', { value: 'x' }, 400, 'InvalidBody'],
      ['PUT', 'plain(50)/n', { v: 1 }, 400, 'InvalidBody'],
      ['PUT', 'plain(50)/n', { value: 1, other: 2 }, 400, 'InvalidBody'],
      ['PUT', 'plain(50)/n/$value', 'not a number', 400, 'InvalidBody'],
      ['PUT', 'plain(50)/nope', { value: 1 }, 404, 'PropertyNotFound'],
      ['PUT', 'plain(50)/id', { value: 51 }, 400, 'ReadOnlyProperty'],
      ['PUT', 'item(2)/total', { value: 1 }, 400, 'ReadOnlyProperty'],
      ['DELETE', 'item(2)/note', undefined, 400, 'ReadOnlyProperty'],
      ['PUT', 'plain(9999)/label', { value: 'x' }, 404, 'EntityNotFound'],
      ['PUT', 'ro(1)/v', { value: 'y' }, 405, 'MethodNotAllowed'],
      ['POST', 'plain(50)/label', { value: 'x' }, 405, 'MethodNotAllowed'],
    ];
    for (const [m, url, body, status, code] of cases) {
      const raw = typeof body === 'string';
      const r = await srv.request(m, url, { body, ...(raw ? { headers: { 'Content-Type': 'text/plain' } } : {}) });
      const text = await r.text();
      assert.equal(r.status, status, `${m} ${url}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, code, `${m} ${url}`);
    }
    assert.deepEqual(await row(50), before_, 'nothing changed');
    assert.deepEqual((await db.query('select v from ro where id = 1'))[0], { v: 'x' });
  });

  it('If-Match is checked: a stale ETag is 412 and the value stays', async () => {
    const r = await srv.request('PUT', 'plain(50)/label', { headers: { 'If-Match': 'W/"1"' }, body: { value: 'stale' } });
    assert.equal(r.status, 412, await r.text());
    assert.equal((await row(50))['label'], 'raw text');
  });
});
