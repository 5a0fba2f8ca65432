/**
 * The pool's connection set-up against a real PostgreSQL: every new connection runs the backend priming
 * statement before anything else (src/db/pool.ts, PRIME_BACKEND_SQL), on every path that takes a
 * connection, and a priming statement that fails leaves the connection usable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Db } from '../src/db/pool.js';
import { createTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
before(async () => {
  db = await createTestDb('');
});
after(async () => {
  await db.drop();
});

const options = (url: string, poolSize: number) => ({ url, poolSize, statementTimeoutMs: 5000, acquireTimeoutMs: 5000, ssl: false });
const PRIMED = "select current_setting('pg_odata.backend_primed', true) as primed, pg_backend_pid() as pid, pg_sleep(0.05)";

test('every new connection is primed before its first statement, on each way of taking one', async () => {
  const d = new Db(options(db.url, 3));
  try {
    // Three at once: the pool opens three connections.
    const rows = await Promise.all([1, 2, 3].map(() => d.query<{ primed: string | null; pid: number }>(PRIMED)));
    assert.deepEqual(rows.map((r) => r.rows[0]!.primed), ['on', 'on', 'on']);
    assert.equal(new Set(rows.map((r) => r.rows[0]!.pid)).size, 3, 'three backends');
    const arrays = await d.queryArrays(PRIMED);
    assert.equal(arrays[0]![0], 'on');
    const inTx = await d.transaction('read only', (tx) => tx.query<{ primed: string | null }>(PRIMED));
    assert.equal(inTx.rows[0]!.primed, 'on');
  } finally {
    await d.close();
  }
});

test('a priming statement that fails is ignored: the connection answers its query', async () => {
  // A database whose search_path finds a repeat() that raises before pg_catalog's.
  const broken = await createTestDb(`
    create function public.repeat(text, integer) returns text language plpgsql as $$ begin raise exception 'no repeat here'; end $$;
  `, 'odata_prime');
  try {
    await broken.query(`alter database ${broken.name} set search_path = public, pg_catalog`);
    const d = new Db(options(broken.url, 1));
    try {
      const r = await d.query<{ primed: string | null; one: number }>("select current_setting('pg_odata.backend_primed', true) as primed, 1 as one");
      assert.equal(r.rows[0]!.one, 1);
      assert.equal(r.rows[0]!.primed, null, 'the failed statement set nothing');
      await assert.rejects(d.query("select repeat('x', 2)"), /no repeat here|internal/i, 'the shadowing function is really in the way');
    } finally {
      await d.close();
    }
  } finally {
    await broken.drop();
  }
});
