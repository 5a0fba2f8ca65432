/**
 * Identical reads in flight share one execution (src/db/coalesce.ts, `database.coalesceReads`), and no
 * answer is older than its request: a read that arrives while its twin runs waits for the next execution
 * instead of joining the running one. Checked against a real PostgreSQL, with a sequence read in the
 * statement as the witness of how many executions ran, and a row written while a read was in flight.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Db } from '../src/db/pool.js';
import { ODataError } from '../src/errors/odata-error.js';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create sequence hits;
create table counter (id int primary key, n int not null);
insert into counter values (1, 0);
create function slow_true() returns boolean language sql volatile as $$ select true from pg_sleep(0.4) $$;
-- every read of the view sleeps 0.4 s (one row) and draws one number: executions are counted
create view slowcounter as select c.id, c.n, nextval('hits') as hit from counter c where slow_true();
`;

let db: TestDb;
before(async () => {
  db = await createTestDb(FIXTURE);
});
after(async () => {
  await db?.drop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until a statement whose text contains `marker` runs in PostgreSQL (its snapshot is taken). */
async function running(marker: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await db.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where state = 'active' and query like '%' || $1 || '%' and pid <> pg_backend_pid()", [marker]);
    if (r[0]!.n > 0) return;
    await sleep(10);
  }
  throw new Error(`no statement with ${marker} started`);
}
const options = (url: string, coalesceReads?: boolean) => ({ url, poolSize: 20, statementTimeoutMs: 5000, acquireTimeoutMs: 5000, ssl: false, ...(coalesceReads === undefined ? {} : { coalesceReads }) });
const SLOW = "select nextval('hits')::int as hit, (select n from counter where id = $1) as n, pg_sleep(0.4)";

describe('Db.readArrays', () => {
  test('twins that arrive while a read runs share the next execution, which sees a write committed before they arrived', async () => {
    const d = new Db(options(db.url));
    try {
      await d.query('update counter set n = 0 where id = 1');
      const before = d.readExecutions;
      const first = d.readArrays(SLOW, [1]);
      await running("nextval('hits')::int");
      await d.query('update counter set n = 7 where id = 1'); // committed while `first` runs
      const twins = Array.from({ length: 10 }, () => d.readArrays(SLOW, [1]));
      const a = await first;
      const rest = await Promise.all(twins);
      assert.equal(a[0]![1], 0, "the running read's snapshot predates the write");
      for (const r of rest) {
        assert.equal(r[0]![1], 7, 'no twin got the older answer');
        assert.equal(r, rest[0], 'the twins share one result');
      }
      assert.notEqual(rest[0]![0]![0], a[0]![0], 'a second execution');
      assert.equal(d.readExecutions - before, 2, 'eleven requests, two executions');
    } finally {
      await d.close();
    }
  });

  test('different parameters or statements are not coalesced', async () => {
    const d = new Db(options(db.url));
    try {
      const before = d.readExecutions;
      const rows = await Promise.all([d.readArrays(SLOW, [1]), d.readArrays(SLOW, [2]), d.readArrays(SLOW, ['1']), d.readArrays(`${SLOW} -- other`, [1])]);
      assert.equal(new Set(rows.map((r) => r[0]![0])).size, 4, 'four executions, four numbers');
      assert.equal(d.readExecutions - before, 4);
    } finally {
      await d.close();
    }
  });

  test('a failed execution rejects every request it served, and the next request runs afresh', async () => {
    const d = new Db(options(db.url));
    try {
      // the division runs after the sleep (a subquery is not folded at planning, a parameter would be)
      const bad = 'select 1 / (select $1::int from pg_sleep(0.2)) as q';
      const all = [d.readArrays(bad, [0])];
      await running('1 / (select $1::int');
      all.push(d.readArrays(bad, [0]), d.readArrays(bad, [0]));
      const settled = await Promise.allSettled(all);
      for (const s of settled) {
        assert.equal(s.status, 'rejected');
        assert.ok((s as PromiseRejectedResult).reason instanceof ODataError, 'a typed error');
      }
      const ok = await d.readArrays(bad, [1]);
      assert.equal(ok[0]![0], 1);
      const again = await d.readArrays(SLOW, [1]);
      assert.equal(typeof again[0]![0], 'number', 'the slot was freed');
    } finally {
      await d.close();
    }
  });

  test('coalesceReads: false runs each request', async () => {
    const d = new Db(options(db.url, false));
    try {
      const rows = await Promise.all(Array.from({ length: 5 }, () => d.readArrays(SLOW, [1])));
      assert.equal(new Set(rows.map((r) => r[0]![0])).size, 5);
    } finally {
      await d.close();
    }
  });
});

describe('coalesced reads over HTTP', () => {
  let on: TestServer;
  let off: TestServer;
  before(async () => {
    const expose = ['public.counter', { name: 'public.slowcounter', key: ['id'] }];
    on = await startTestServer(db.url, { expose, database: { url: db.url, poolSize: 20 } });
    off = await startTestServer(db.url, { expose, database: { url: db.url, poolSize: 20, coalesceReads: false } });
  });
  after(async () => {
    await on?.stop();
    await off?.stop();
  });

  const read = async (srv: TestServer): Promise<{ n: number; hit: string }> => {
    const r = await srv.get('slowcounter(1)');
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { n: number; hit: string };
  };

  test('a GET after a PATCH sees the PATCH although an identical GET was running, and the twins share one execution', async () => {
    const patch = async (n: number): Promise<void> => {
      const r = await on.request('PATCH', 'counter(1)', { body: { n } });
      assert.equal(r.status, 204, await r.text());
    };
    await patch(1);
    const first = read(on);
    await running('slowcounter');
    await patch(2);
    const twins = await Promise.all(Array.from({ length: 8 }, () => read(on)));
    const a = await first;
    assert.equal(a.n, 1);
    for (const t of twins) assert.deepEqual(t, twins[0], 'one execution served the twins');
    assert.equal(twins[0]!.n, 2, 'every twin sees the PATCH that returned before it was sent');
    assert.notEqual(twins[0]!.hit, a.hit);
  });

  test('with coalesceReads false each GET runs its own statement', async () => {
    const all = await Promise.all(Array.from({ length: 4 }, () => read(off)));
    assert.equal(new Set(all.map((x) => String(x.hit))).size, 4);
  });

  test('a collection and its $count under a burst of one URL answer what PostgreSQL counts', async () => {
    const expected = (await db.query<{ c: string }>('select count(*)::text as c from counter'))[0]!.c;
    const answers = await Promise.all(Array.from({ length: 30 }, () => on.get('counter/$count').then((r) => r.text())));
    assert.deepEqual(new Set(answers), new Set([expected]));
    const pages = await Promise.all(Array.from({ length: 30 }, () => on.get('counter?$orderby=id').then(async (r) => ({ status: r.status, body: (await r.json()) as { value: unknown[] } }))));
    for (const p of pages) assert.deepEqual(p, pages[0]);
    assert.equal(pages[0]!.body.value.length, Number(expected));
  });
});
