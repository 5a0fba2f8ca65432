/**
 * Writes through a real OData client library from npm (@odata/client, as seen in the field: it sends
 * Accept and Content-Type: application/json on every request and addresses entities as `Set(6)`):
 * create, read, update, delete, count, checked in the database after each step.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OData } from '@odata/client';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table person (id serial primary key, name varchar(40) not null, age int, salary numeric(12,2));
insert into person (name, age) values ('Ada', 36);
`;

let db: TestDb;
let srv: TestServer;
before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.person'] });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

interface Person {
  id: number;
  name: string;
  age: number | null;
  salary: number | null;
}

describe('@odata/client against the server', () => {
  it('creates, reads, updates and deletes', async () => {
    const client = OData.New4({ serviceEndpoint: srv.root });
    const people = client.getEntitySet<Person>('person');

    const created = await people.create({ name: 'Grace', age: 45, salary: 1234.5 });
    assert.equal(created.name, 'Grace');
    assert.equal(typeof created.id, 'number');
    const id = created.id;
    assert.deepEqual((await db.query('select name, age, salary::text from person where id = $1', [id]))[0], { name: 'Grace', age: 45, salary: '1234.50' });

    const read = await people.retrieve(id);
    assert.equal(read.age, 45);

    await people.update(id, { age: 46 });
    assert.deepEqual((await db.query('select name, age from person where id = $1', [id]))[0], { name: 'Grace', age: 46 });

    assert.equal(await people.count(), 2);

    await people.delete(id);
    assert.equal((await db.query('select count(*)::int as n from person where id = $1', [id]))[0]!['n'], 0);
    assert.equal(await people.count(), 1);
  });

  it('surfaces validation errors as errors', async () => {
    const client = OData.New4({ serviceEndpoint: srv.root });
    await assert.rejects(() => client.getEntitySet<Person>('person').create({ name: 'x'.repeat(41) }));
    assert.equal((await db.query('select count(*)::int as n from person'))[0]!['n'], 1);
  });
});
