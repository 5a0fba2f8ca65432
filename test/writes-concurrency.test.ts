/**
 * Optimistic concurrency under load: 20 clients at a time read a counter row with its ETag and PATCH
 * it to counter + 1 under If-Match, retrying on 412. Exactly one PATCH wins per version, the others get
 * 412, and no update is lost: the final counter equals the number of successful PATCHes. Run both with a
 * version column maintained by a trigger and with content-hash ETags.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table counter (id int primary key, n int not null, version bigint not null default 0);
create function bump() returns trigger language plpgsql as $$ begin new.version := old.version + 1; return new; end $$;
create trigger counter_bump before update on counter for each row execute function bump();
insert into counter values (1, 0, 0);
create table hcounter (id int primary key, n int not null);
insert into hcounter values (1, 0);
`;

let db: TestDb;
let srv: TestServer;
before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: [{ name: 'public.counter', versionColumn: 'version' }, 'public.hcounter'], database: { url: db.url, poolSize: 25 } });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

async function race(set: string, clients: number, incrementsEach: number): Promise<{ ok: number; conflicts: number; winnersPerVersion: Map<string, number> }> {
  let ok = 0;
  let conflicts = 0;
  const winnersPerVersion = new Map<string, number>();
  const client = async (): Promise<void> => {
    let done = 0;
    while (done < incrementsEach) {
      const g = await srv.get(`${set}(1)`);
      const etag = g.headers.get('etag')!;
      const { n } = (await g.json()) as { n: number };
      const r = await srv.request('PATCH', `${set}(1)`, { body: { n: n + 1 }, headers: { 'If-Match': etag, Prefer: 'return=representation' } });
      if (r.status === 200) {
        const rep = (await r.json()) as { n: number };
        assert.equal(rep.n, n + 1);
        winnersPerVersion.set(etag, (winnersPerVersion.get(etag) ?? 0) + 1);
        ok++;
        done++;
      } else {
        assert.equal(r.status, 412, await r.text());
        conflicts++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { ok, conflicts, winnersPerVersion };
}

describe('concurrent PATCH with If-Match', () => {
  for (const [set, table] of [['counter', 'counter'], ['hcounter', 'hcounter']] as const) {
    it(`${set}: one winner per version, the rest 412, no lost update`, async () => {
      const { ok, conflicts, winnersPerVersion } = await race(set, 20, 3);
      assert.equal(ok, 60);
      assert.ok(conflicts > 0, 'with 20 clients some must have collided');
      for (const [tag, winners] of winnersPerVersion) assert.equal(winners, 1, `two PATCHes won with ${tag}`);
      const row = (await db.query<{ n: number }>(`select n from ${table} where id = 1`))[0]!;
      assert.equal(row.n, ok);
    });
  }
});
