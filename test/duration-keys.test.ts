/**
 * Edm.Duration keys, negative ones included: OData writes a negative duration with a leading sign
 * ('-P1DT2H'), which PostgreSQL's interval input rejects, so keys go through the same conversion as
 * filter literals and body values. Reads, updates and deletes address the row by its negative key, and a
 * key read back from a page addresses the same row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table public.shift (span interval primary key, label text);
insert into public.shift values (interval '-1 day -2 hours', 'back 26h'), (interval '1 day', 'ahead 1d'), (interval '-1.5 seconds', 'back 1.5s'), (interval '0', 'zero');
`;

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.shift'] });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

async function label(span: string): Promise<string | null | undefined> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ label: string | null }>('select label from public.shift where span = $1::interval', [span]);
    return r.rows[0]?.label;
  } finally {
    await c.end();
  }
}

describe('Edm.Duration keys', () => {
  it('reads entities by negative and positive duration keys', async () => {
    for (const [key, expected] of [["duration'-P1DT2H'", 'back 26h'], ["duration'-PT1.5S'", 'back 1.5s'], ["duration'P1D'", 'ahead 1d'], ["span=duration'-PT26H'", 'back 26h']] as const) {
      const res = await srv.get(`shift(${key})`);
      const text = await res.text();
      assert.equal(res.status, 200, `${key}: ${text}`);
      assert.equal((JSON.parse(text) as { label: string }).label, expected, key);
    }
  });

  it('a key read from a page addresses the same entity', async () => {
    const res = await srv.get('shift?$orderby=span');
    assert.equal(res.status, 200);
    const rows = ((await res.json()) as { value: { span: string; label: string }[] }).value;
    assert.deepEqual(rows.map((r) => r.label), ['back 26h', 'back 1.5s', 'zero', 'ahead 1d']);
    for (const r of rows) {
      const one = await srv.get(`shift(duration'${r.span}')`);
      assert.equal(one.status, 200, r.span);
      assert.equal(((await one.json()) as { label: string }).label, r.label);
    }
  });

  it('updates and deletes by a negative duration key', async () => {
    const patch = await srv.request('PATCH', "shift(duration'-P1DT2H')", { body: { label: 'patched' } });
    assert.equal(patch.status, 204, await patch.text());
    assert.equal(await label('-1 day -2 hours'), 'patched');
    const del = await srv.request('DELETE', "shift(duration'-PT1.5S')");
    assert.equal(del.status, 204, await del.text());
    assert.equal(await label('-1.5 seconds'), undefined);
  });

  it('creates an entity whose key is a negative duration', async () => {
    const res = await srv.request('POST', 'shift', { body: { span: '-P2DT30M', label: 'created' } });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assert.equal(await label('-2 days -30 minutes'), 'created');
    const again = await srv.get(`shift(duration'${(JSON.parse(text) as { span: string }).span}')`);
    assert.equal(again.status, 200);
  });

  it('an invalid duration key is a 400 that names the literal, and nothing changes', async () => {
    const res = await srv.request('PATCH', "shift(duration'-P1X')", { body: { label: 'nope' } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.match(body.error.message, /duration/i);
    assert.equal(await label('-1 day -2 hours'), 'patched');
  });
});
