/**
 * Every kind of invalid write body in one request: one 400 InvalidBody whose details name each offending
 * property (unknown, wrong JSON type, out of Int16/Int32 range, Int64 out of range, too many digits for
 * numeric(18,2) measured on the raw text, too long a string in characters, malformed Date,
 * DateTimeOffset, TimeOfDay, Guid, Binary, Duration, null for NOT NULL, read-only, wrong @odata.type),
 * and the table unchanged afterwards. Valid edge values on the other side of each limit are accepted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table thing (
  id serial primary key,
  label varchar(5) not null default 'x',
  small smallint,
  medium int,
  big bigint,
  price numeric(18,2),
  ratio double precision,
  flag boolean,
  day date,
  at timestamptz,
  tod time,
  uid uuid,
  bytes bytea,
  span interval,
  required_text text not null,
  computed_len int generated always as (length(label)) stored
);
insert into thing (label, required_text) values ('seed', 'r');
`;

let db: TestDb;
let srv: TestServer;
before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.thing'] });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

const snapshot = async (): Promise<unknown[]> => db.query('select * from thing order by id');

const INVALID = `{
  "@odata.type": "#Other.thing",
  "nope": 1,
  "label": "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
  "small": 40000,
  "medium": 1.5,
  "big": 9223372036854775808,
  "price": 12345678901234567.89,
  "ratio": "lots",
  "flag": "true",
  "day": "2024-02-30",
  "at": "2024-01-01T10:00:00",
  "tod": "25:00",
  "uid": "not-a-guid",
  "bytes": "###",
  "span": "1 day",
  "required_text": null,
  "computed_len": 3
}`;

describe('write body validation', () => {
  it('lists every offending property in details and changes nothing (POST and PATCH)', async () => {
    const before_ = await snapshot();
    const expected = ['@odata.type', 'nope', 'label', 'small', 'medium', 'big', 'price', 'ratio', 'flag', 'day', 'at', 'tod', 'uid', 'bytes', 'span', 'required_text'];
    for (const [method, path] of [['POST', 'thing'], ['PATCH', 'thing(1)'], ['PUT', 'thing(1)']] as const) {
      const r = await srv.request(method, path, { body: INVALID, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, method);
      const err = ((await r.json()) as { error: { code: string; details: { code: string; message: string; target: string }[] } }).error;
      assert.equal(err.code, 'InvalidBody');
      assert.deepEqual(err.details.map((d) => d.target).sort(), [...expected].sort(), method);
      const by = new Map(err.details.map((d) => [d.target, d]));
      assert.equal(by.get('nope')!.code, 'UnknownProperty');
      assert.match(by.get('label')!.message, /longer than 5 characters/);
      assert.match(by.get('price')!.message, /16 digits before and 2 after/);
      assert.match(by.get('required_text')!.message, /may not be null/);
      for (const d of err.details) assert.ok(d.message.length > 0);
    }
    assert.deepEqual(await snapshot(), before_);
  });

  it('reports a missing required property on POST (NOT NULL without default), but not on PATCH', async () => {
    const r = await srv.request('POST', 'thing', { body: { label: 'ok' } });
    assert.equal(r.status, 400);
    const err = ((await r.json()) as { error: { details: { target: string }[] } }).error;
    assert.deepEqual(err.details.map((d) => d.target), ['required_text']);
    assert.equal((await srv.request('PATCH', 'thing(1)', { body: { label: 'ok' } })).status, 204);
  });

  it('accepts the valid values at each limit, strings for Int64/Decimal, and stores them exactly', async () => {
    const body = `{
      "label": "\u00e9\u00e9\u00e9\u00e9\u00e9", "small": -32768, "medium": 2147483647, "big": "-9223372036854775808",
      "price": 9999999999999999.99, "ratio": "-INF", "flag": true, "day": "2024-02-29",
      "at": "2024-01-01T10:00:00.123456+05:30", "tod": "23:59:59.5", "uid": "0123ABCD-4567-89ab-cdef-0123456789AB",
      "bytes": "AP_-", "span": "-P1DT2H30M0.5S", "required_text": "r"
    }`;
    const r = await srv.request('POST', 'thing', { body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201, await r.clone().text());
    const id = ((await r.json()) as { id: number }).id;
    const row = (await db.query(
      `select label, small, medium, big::text, price::text, ratio::text, flag, day::text, at::text, tod::text, uid::text, encode(bytes, 'hex') as bytes, span::text, computed_len from thing where id = $1`,
      [id],
    ))[0];
    assert.deepEqual(row, {
      label: 'ééééé', small: -32768, medium: 2147483647, big: '-9223372036854775808', price: '9999999999999999.99', ratio: '-Infinity', flag: true,
      day: '2024-02-29', at: '2024-01-01 04:30:00.123456+00', tod: '23:59:59.5', uid: '0123abcd-4567-89ab-cdef-0123456789ab', bytes: '00fffe',
      span: '-1 days -02:30:00.5', computed_len: 5,
    });
  });
});
