/**
 * Resolving an entity-id: GET $entity?$id=... (URL Conventions, "Resolving an Entity-Id") answers what a
 * GET of the id itself answers, with $select and $format; a type segment must name the entity's type. Bad
 * ids, other methods and a missing $id are refused with clear errors, and nothing is read around them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { readJson } from './helpers/http.js';

const fixture = readFileSync(new URL('./fixtures/types.sql', import.meta.url), 'utf8');

let db: TestDb;
let srv: TestServer;
let namespace: string;

before(async () => {
  db = await createTestDb(fixture);
  srv = await startTestServer(db.url, { expose: ['public.*'], pageSize: 100 });
  const full = await readJson(await srv.get('many(1)', { Accept: 'application/json;odata.metadata=full' }));
  namespace = String(full['@odata.type']).replace(/^#/, '').replace(/\.many$/, '');
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<Record<string, any>> {
  const body = await readJson(res);
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body['error']?.code, code, JSON.stringify(body));
  if (message) assert.match(body['error'].message, message);
  assert.doesNotMatch(JSON.stringify(body), /select |from "|\bat .*\.ts:\d+/i, 'no SQL text or stack trace');
  return body;
}

describe('$entity?$id=', () => {
  it('answers the entity as a GET of its id does: relative and absolute ids, composite keys', async () => {
    const direct = await srv.get('many(7)');
    const directBody = await readJson(direct);
    for (const id of ['many(7)', `${srv.root}many(7)`, 'many(id=7)']) {
      const res = await srv.get(`$entity?$id=${encodeURIComponent(id)}`);
      const body = await readJson(res);
      assert.equal(res.status, 200, `${id}: ${JSON.stringify(body)}`);
      assert.deepEqual(body, directBody, id);
      assert.equal(res.headers.get('etag'), direct.headers.get('etag'));
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    }
    const res = await srv.get(`$entity?$id=${encodeURIComponent("composite(region='o''x',code=3)")}`);
    const body = await readJson(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body['region'], "o'x");
    assert.equal(body['code'], 3);
    assert.match(String(body['@odata.context']), /\$metadata#composite\/\$entity$/);
  });

  it('the @odata.id of a payload resolves back to that entity', async () => {
    const full = await readJson(await srv.get('many(12)', { Accept: 'application/json;odata.metadata=full' }));
    const id = String(full['@odata.id']);
    const again = await readJson(await srv.get(`$entity?$id=${encodeURIComponent(id)}`, { Accept: 'application/json;odata.metadata=full' }));
    assert.deepEqual(again, full);
  });

  it('resolves the @odata.id it wrote under a Host header with a default port or upper-case letters', async () => {
    const get = (path: string, host: string): Promise<{ status: number; body: Record<string, any> }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: srv.server.port, path: `/odata/v4/${path}`, headers: { host, accept: 'application/json;odata.metadata=full' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, any> }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const host of ['Example.COM:80', 'example.com', `localhost:${srv.server.port}`]) {
      const first = await get('many(9)', host);
      assert.equal(first.status, 200);
      const id = String(first.body['@odata.id']);
      assert.ok(id.includes(host), `${id} is built from the Host header ${host}`);
      const again = await get(`$entity?$id=${encodeURIComponent(id)}`, host);
      assert.equal(again.status, 200, `${host}: ${JSON.stringify(again.body)}`);
      assert.deepEqual(again.body, first.body);
    }
  });

  it('takes $select and $format, and a type segment naming the entity type', async () => {
    const res = await srv.get('$entity?$id=many(3)&$select=n');
    const body = await readJson(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).filter((k) => !k.startsWith('@')), ['n']);
    assert.equal(body['n'], 3);
    assert.match(String(body['@odata.context']), /\$metadata#many\(n\)\/\$entity$/);
    const none = await readJson(await srv.get('$entity?$id=many(3)&$format=application/json;odata.metadata=none'));
    assert.equal(none['@odata.context'], undefined);
    assert.equal(none['id'], 3);
    const cast = await srv.get(`$entity/${namespace}.many?$id=many(3)`);
    assert.equal(cast.status, 200);
    assert.equal((await readJson(cast))['id'], 3);
    const head = await fetch(`${srv.root}$entity?$id=many(3)`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('refuses what it cannot resolve, with the status and code of each case', async () => {
    await expectError(await srv.get('$entity'), 400, 'InvalidQueryOption', /\$id/);
    await expectError(await srv.get('$entity?$id='), 400, 'InvalidQueryOption', /\$id/);
    await expectError(await srv.get('$entity?$id=many'), 400, 'InvalidQueryOption', /single entity/);
    await expectError(await srv.get('$entity?$id=many(1)/label'), 400, 'InvalidQueryOption', /single entity/);
    await expectError(await srv.get(`$entity?$id=${encodeURIComponent('http://elsewhere.example/odata/v4/many(1)')}`), 400, 'InvalidQueryOption', /this service/);
    await expectError(await srv.get(`$entity?$id=${encodeURIComponent('many(1)?$select=n')}`), 400, 'InvalidQueryOption', /query/);
    await expectError(await srv.get('$entity?$id=many(9999)'), 404, 'EntityNotFound');
    await expectError(await srv.get('$entity?$id=nothing(1)'), 404, 'EntitySetNotFound');
    await expectError(await srv.get('$entity?$id=secret(1)'), 404, 'EntitySetNotFound');
    await expectError(await srv.get("$entity?$id=many('x')"), 400, 'InvalidKey');
    await expectError(await srv.get(`$entity/${namespace}.composite?$id=many(3)`), 404, 'NotFound', /type/);
    await expectError(await srv.get('$entity?$id=many(3)&$filter=n eq 3'), 400, 'InvalidQueryOption', /\$filter/);
    await expectError(await srv.get('$entity?$id=many(3)&$expand=x'), 501, 'NotImplemented');
    await expectError(await srv.get('$entity/a/b?$id=many(3)'), 404, 'NotFound');
  });

  it('is read-only: a write to $entity is a 405 and changes nothing', async () => {
    const before = await readJson(await srv.get('many(5)'));
    for (const method of ['PATCH', 'DELETE', 'PUT', 'POST']) {
      const res = await srv.request(method, '$entity?$id=many(5)', method === 'DELETE' ? {} : { body: { label: 'changed' } });
      await expectError(res, 405, 'MethodNotAllowed', /entity's own URL/);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
    }
    assert.deepEqual(await readJson(await srv.get('many(5)')), before);
  });

  it('works inside $batch', async () => {
    const res = await srv.request('POST', '$batch', {
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: { requests: [{ id: '1', method: 'get', url: '$entity?$id=many(4)' }, { id: '2', method: 'patch', url: '$entity?$id=many(4)', body: { label: 'x' } }] },
    });
    const body = await readJson(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    const [one, two] = body['responses'] as Record<string, any>[];
    assert.equal(one!['status'], 200);
    assert.equal(one!['body']['id'], 4);
    assert.equal(two!['status'], 405);
    assert.notEqual((await readJson(await srv.get('many(4)')))['label'], 'x');
  });
});
