/**
 * $batch end to end: multipart/mixed (4.0) and JSON (4.01) batches with reads, change sets /
 * atomicity groups that land entirely or not at all (checked in the database), Content-ID and request-id
 * references, stop-at-first-failure vs odata.continue-on-error (multipart) and run-what-dependencies-allow
 * (JSON, with dependsOn and `if` conditions), permissions per inner request, and the cap on requests per batch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = `
create table item (id serial primary key, name text not null, qty int not null default 0 check (qty >= 0));
insert into item (name, qty) values ('a', 1), ('b', 2);
create table note (id int primary key, item_id int not null references item(id), text text);
create view item_view as select id, name from item;
`;

let db: TestDb;
let srv: TestServer;
before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.item', 'public.note', 'public.item_view'], batch: { maxRequests: 5 } });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

const CRLF = '\r\n';
function httpPart(method: string, url: string, opts: { body?: unknown; headers?: Record<string, string>; contentId?: string } = {}): string {
  const mime = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary', ...(opts.contentId ? [`Content-ID: ${opts.contentId}`] : [])];
  const headers = Object.entries({ ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers ?? {}) }).map(([k, v]) => `${k}: ${v}`);
  const body = opts.body === undefined ? '' : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return [...mime, '', `${method} ${url} HTTP/1.1`, ...headers, '', body].join(CRLF);
}
function multipart(boundary: string, parts: string[]): string {
  return parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('') + `--${boundary}--${CRLF}`;
}
function changeset(boundary: string, parts: string[]): string {
  return `Content-Type: multipart/mixed; boundary=${boundary}${CRLF}${CRLF}${multipart(boundary, parts)}`;
}
async function postBatch(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return srv.request('POST', '$batch', { body, headers: { 'Content-Type': 'multipart/mixed; boundary=batch_1', ...headers } });
}
/** Splits a multipart response into the status lines of its (nested) parts, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
}
const items = async (): Promise<{ id: number; name: string; qty: number }[]> => db.query('select id, name, qty from item order by id');

describe('multipart $batch', () => {
  it('runs reads and a change set with a Content-ID reference; responses in order', async () => {
    const body = multipart('batch_1', [
      httpPart('GET', 'item(1)', { headers: { Accept: 'application/json' } }),
      changeset('cs_1', [
        httpPart('POST', 'item', { body: { name: 'created', qty: 5 }, contentId: '1' }),
        httpPart('PATCH', '$1', { body: { qty: 6 }, contentId: '2' }),
        httpPart('POST', `${srv.root}note`, { body: { id: 1, item_id: 1, text: 'abs url' }, contentId: '3' }),
      ]),
      httpPart('GET', '/odata/v4/item?$filter=name%20eq%20%27created%27&$select=name,qty'),
    ]);
    const r = await postBatch(body);
    assert.equal(r.status, 200);
    const ct = r.headers.get('content-type')!;
    assert.match(ct, /^multipart\/mixed; boundary=batchresponse_/);
    const text = await r.text();
    assert.deepEqual(statuses(text), [200, 201, 204, 201, 200]);
    assert.match(text, /changesetresponse_/);
    assert.match(text, /Content-ID: 1\r\n/);
    assert.match(text, /"name" ?: ?"a"/);
    assert.match(text, /"name" ?: ?"created", ?"qty" ?: ?6\}\]\}/);
    const row = (await db.query("select qty from item where name = 'created'"))[0];
    assert.deepEqual(row, { qty: 6 });
    assert.equal((await db.query('select count(*)::int as n from note'))[0]!['n'], 1);
  });

  it('a change set whose third request fails rolls back the first two; one error response for the set', async () => {
    const before_ = await items();
    const body = multipart('batch_1', [
      changeset('cs_2', [
        httpPart('POST', 'item', { body: { name: 'rolled back', qty: 1 }, contentId: '1' }),
        httpPart('PATCH', 'item(2)', { body: { qty: 100 }, contentId: '2' }),
        httpPart('PATCH', 'item(1)', { body: { qty: -5 }, contentId: '3' }), // check constraint
      ]),
      httpPart('GET', 'item(1)'),
    ]);
    const r = await postBatch(body);
    assert.equal(r.status, 200);
    const text = await r.text();
    // stops at the failed change set (no odata.continue-on-error): one 400, no further responses
    assert.deepEqual(statuses(text), [400]);
    assert.match(text, /Content-ID: 3/);
    assert.match(text, /check constraint/);
    assert.deepEqual(await items(), before_);
  });

  it('If-Match: $<Content-ID> stands for the ETag of that earlier response', async () => {
    const body = multipart('batch_1', [
      httpPart('GET', 'item(2)', { contentId: 'read' }),
      changeset('cs_e', [httpPart('PATCH', 'item(2)', { body: { qty: 3 }, contentId: 'upd', headers: { 'If-Match': '$read' } })]),
      // the read's ETag is stale now: the same reference fails the precondition
      httpPart('PATCH', 'item(2)', { body: { qty: 4 }, contentId: 'stale', headers: { 'If-Match': '$read' } }),
    ]);
    const r = await postBatch(body, { Prefer: 'odata.continue-on-error' });
    const text = await r.text();
    assert.deepEqual(statuses(text), [200, 204, 412]);
    assert.equal((await db.query('select qty from item where id = 2'))[0]!['qty'], 3);
    const unknown = await postBatch(multipart('batch_1', [httpPart('PATCH', 'item(2)', { body: { qty: 5 }, headers: { 'If-Match': '$nope' } })]));
    const t2 = await unknown.text();
    assert.deepEqual(statuses(t2), [400]);
    assert.match(t2, /If-Match value \$nope does not name an earlier request/i);
    assert.equal((await db.query('select qty from item where id = 2'))[0]!['qty'], 3);
  });

  it('with odata.continue-on-error the following requests run', async () => {
    const body = multipart('batch_1', [httpPart('GET', 'item(999)'), httpPart('PATCH', 'item(2)', { body: { name: 'bb' } }), httpPart('GET', 'nosuch')]);
    const r = await postBatch(body, { Prefer: 'odata.continue-on-error' });
    assert.equal(r.headers.get('preference-applied'), 'odata.continue-on-error');
    assert.deepEqual(statuses(await r.text()), [404, 204, 404]);
    assert.equal((await db.query('select name from item where id = 2'))[0]!['name'], 'bb');
    const r2 = await postBatch(body.replace('"bb"', '"bbb"'));
    assert.deepEqual(statuses(await r2.text()), [404]);
    assert.equal((await db.query('select name from item where id = 2'))[0]!['name'], 'bb');
    const r3 = await postBatch(body.replace('"bb"', '"b4"'), { Prefer: 'continue-on-error' });
    assert.equal(r3.headers.get('preference-applied'), 'continue-on-error', "the 4.01 name is echoed as the client sent it");
    assert.deepEqual(statuses(await r3.text()), [404, 204, 404]);
  });

  it('inner requests get the same answers as standalone ones (405 on a view, 404 unknown set)', async () => {
    const body = multipart('batch_1', [httpPart('POST', 'item_view', { body: { name: 'x' } })]);
    const text = await (await postBatch(body)).text();
    assert.deepEqual(statuses(text), [405]);
    assert.match(text, /Allow: GET, HEAD/);
  });

  it('400 over batch.maxRequests, nothing runs; 415 for another media type; 400 without boundary', async () => {
    const before_ = await items();
    const parts = Array.from({ length: 6 }, (_, i) => httpPart('POST', 'item', { body: { name: `cap${i}` } }));
    const r = await postBatch(multipart('batch_1', parts));
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /at most 5/);
    assert.deepEqual(await items(), before_);
    assert.equal((await srv.request('POST', '$batch', { body: 'x', headers: { 'Content-Type': 'text/plain' } })).status, 415);
    assert.equal((await srv.request('POST', '$batch', { body: 'x', headers: { 'Content-Type': 'multipart/mixed' } })).status, 400);
  });

  it("the outer request's user applies to every inner request: 403 for a set it may not write, 404 for one it may not read", async () => {
    const auth = await startTestServer(db.url, {
      expose: ['public.item', 'public.note'],
      auth: { open: false, users: [{ name: 'r', password: 'reader-secret-1234', read: ['item'], write: [] }] },
    });
    try {
      const before_ = await items();
      const body = multipart('batch_1', [httpPart('GET', 'item(1)'), httpPart('PATCH', 'item(1)', { body: { qty: 9 } }), httpPart('GET', 'note')]);
      const r = await auth.request('POST', '$batch', {
        body,
        headers: { 'Content-Type': 'multipart/mixed; boundary=batch_1', Prefer: 'odata.continue-on-error', Authorization: `Basic ${Buffer.from('r:reader-secret-1234').toString('base64')}` },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(statuses(await r.text()), [200, 403, 404]);
      assert.deepEqual(await items(), before_);
    } finally {
      await auth.stop();
    }
  });

  it('malformed multipart is a 400', async () => {
    const r = await postBatch(`--batch_1${CRLF}${httpPart('GET', 'item(1)')}${CRLF}`); // no closing delimiter
    assert.equal(r.status, 400);
  });

  it('a GET inside a change set, or a Content-ID used twice, is a malformed batch: 400 and nothing runs', async () => {
    const before_ = await items();
    const withGet = multipart('batch_1', [
      httpPart('POST', 'item', { body: { name: 'runs-first?' } }),
      changeset('cs_1', [httpPart('GET', 'item(1)', { contentId: '1' }), httpPart('POST', 'item', { body: { name: 'x' }, contentId: '2' })]),
    ]);
    const twice = multipart('batch_1', [
      changeset('cs_1', [
        httpPart('POST', 'item', { body: { name: 'dup-a' }, contentId: '1' }),
        httpPart('POST', 'item', { body: { name: 'dup-b' }, contentId: '1' }),
        httpPart('PATCH', '$1', { body: { qty: 9 }, contentId: '3' }),
      ]),
    ]);
    for (const [body, why] of [[withGet, /change set may contain only POST, PATCH, PUT and DELETE requests, not GET/], [twice, /Content-ID 1 is used twice/]] as const) {
      const r = await postBatch(body);
      assert.equal(r.status, 400);
      const err = ((await r.json()) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, 'BadRequest');
      assert.match(err.message, why);
    }
    assert.deepEqual(await items(), before_);
  });
});

describe('JSON $batch', () => {
  it('runs requests, an atomicity group with a $id reference, and embeds bodies as JSON', async () => {
    const r = await srv.request('POST', '$batch', {
      body: {
        requests: [
          { id: 'r1', method: 'get', url: 'item(1)' },
          { id: 'c1', atomicityGroup: 'g1', method: 'post', url: 'item', body: { name: 'json-created', qty: 3 } },
          { id: 'c2', atomicityGroup: 'g1', dependsOn: ['c1'], method: 'patch', url: '$c1', body: { qty: 4 }, headers: { Prefer: 'return=representation' } },
          { id: 'r2', method: 'get', url: 'item/$count' },
        ],
      },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    const { responses } = (await r.json()) as { responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[] };
    assert.deepEqual(responses.map((x) => [x.id, x.status]), [['r1', 200], ['c1', 201], ['c2', 200], ['r2', 200]]);
    assert.equal((responses[0]!.body as { name: string }).name, 'a');
    assert.match(responses[1]!.headers['location']!, /item\(\d+\)$/);
    assert.equal((responses[2]!.body as { qty: number }).qty, 4);
    const count = Number((await db.query('select count(*)::int as n from item'))[0]!['n']);
    assert.equal(Number(responses[3]!.body), count);
    assert.deepEqual((await db.query("select qty from item where name = 'json-created'"))[0], { qty: 4 });
  });

  it('a failing atomicity group rolls back entirely; dependents get 424', async () => {
    const before_ = await items();
    const r = await srv.request('POST', '$batch', {
      headers: { Prefer: 'odata.continue-on-error' },
      body: {
        requests: [
          { id: 'a', atomicityGroup: 'g', method: 'post', url: 'item', body: { name: 'nope1' } },
          { id: 'b', atomicityGroup: 'g', method: 'patch', url: 'item(1)', body: { qty: 50 } },
          { id: 'c', atomicityGroup: 'g', method: 'post', url: 'item', body: { name: 'nope2', unknown: 1 } },
          { id: 'd', dependsOn: ['g'], method: 'patch', url: 'item(2)', body: { qty: 7 } },
          { id: 'e', method: 'get', url: 'item(2)' },
        ],
      },
    });
    const { responses } = (await r.json()) as { responses: { id: string; status: number; body?: { error?: { code: string } } }[] };
    assert.deepEqual(responses.map((x) => [x.id, x.status]), [['a', 424], ['b', 424], ['c', 400], ['d', 424], ['e', 200]]);
    assert.equal(responses[2]!.body!.error!.code, 'InvalidBody');
    assert.deepEqual(await items(), before_);
  });

  it('keeps every digit of numbers in inner bodies', async () => {
    const r = await srv.request('POST', '$batch', {
      body: '{"requests":[{"id":"1","method":"POST","url":"note","body":{"id":9007199254740993,"item_id":1}}]}',
      headers: { 'Content-Type': 'application/json' },
    });
    const { responses } = (await r.json()) as { responses: { status: number; body: { error: { message: string } } }[] };
    // int column: 9007199254740993 is out of the Int32 range and is refused, not rounded
    assert.equal(responses[0]!.status, 400);
    assert.equal((await db.query('select count(*)::int as n from note where id > 1000'))[0]!['n'], 0);
  });

  type JsonResponses = { responses: { id: string; status: number; atomicityGroup?: string; body?: { error?: { code: string; message: string } } }[] };
  const jsonBatch = async (requests: unknown[], headers: Record<string, string> = {}): Promise<JsonResponses['responses']> => {
    const r = await srv.request('POST', '$batch', { headers, body: { requests } });
    assert.equal(r.status, 200);
    return ((await r.json()) as JsonResponses).responses;
  };

  it('runs every request its dependencies allow by default; continue-on-error=false stops at the first error', async () => {
    const before_ = await items();
    const requests = [
      { id: 'bad', method: 'patch', url: 'item(1)', body: { qty: -5 } },
      { id: 'dep', dependsOn: ['bad'], method: 'patch', url: 'item(1)', body: { qty: 9 } },
      { id: 'free', method: 'get', url: 'item(2)' },
    ];
    const all = await jsonBatch(requests);
    assert.deepEqual(all.map((x) => [x.id, x.status]), [['bad', 400], ['dep', 424], ['free', 200]]);
    assert.match(all[1]!.body!.error!.message, /request bad it depends on failed/);
    const stopped = await jsonBatch(requests, { Prefer: 'continue-on-error=false' });
    assert.deepEqual(stopped.map((x) => [x.id, x.status]), [['bad', 400]]);
    assert.deepEqual(await items(), before_, 'the failed update changed nothing');
  });

  it('"if" runs a request on the outcome of earlier ones instead of dependsOn alone', async () => {
    const before_ = await items();
    const responses = await jsonBatch([
      { id: 'fail', method: 'patch', url: 'item(1)', body: { qty: -1 } },
      { id: 'ok', method: 'get', url: 'item(1)' },
      // the compensation runs because "fail" failed, though it depends on it
      { id: 'fix', dependsOn: ['fail'], if: 'not $fail/$succeeded', method: 'patch', url: 'item(2)', body: { qty: 20 } },
      { id: 'skip', dependsOn: ['fail'], if: '$fail/$succeeded or false', method: 'patch', url: 'item(2)', body: { qty: 30 } },
      { id: 'both', dependsOn: ['ok', 'fix'], if: '$ok/$succeeded and ($fix/$succeeded)', method: 'get', url: 'item(2)' },
    ]);
    assert.deepEqual(responses.map((x) => [x.id, x.status]), [['fail', 400], ['ok', 200], ['fix', 204], ['skip', 424], ['both', 200]]);
    assert.match(responses[3]!.body!.error!.message, /"if" condition "\$fail\/\$succeeded or false" of request skip is false/);
    assert.deepEqual(await items(), before_.map((i) => (i.id === 2 ? { ...i, qty: 20 } : i)), 'only the compensation landed');
  });

  it('a condition outside the evaluated subset is 424 with nothing changed, for its whole atomicity group', async () => {
    const before_ = await items();
    const responses = await jsonBatch([
      { id: 'r', method: 'get', url: 'item(1)' },
      { id: 'w1', atomicityGroup: 'grp', method: 'patch', url: 'item(1)', body: { qty: 11 } },
      { id: 'w2', atomicityGroup: 'grp', dependsOn: ['r'], if: "$r/name eq 'a'", method: 'patch', url: 'item(2)', body: { qty: 12 } },
      { id: 'after', dependsOn: ['grp'], method: 'get', url: 'item(1)' },
    ]);
    assert.deepEqual(responses.map((x) => [x.id, x.status, x.atomicityGroup]), [['r', 200, undefined], ['w1', 424, 'grp'], ['w2', 424, 'grp'], ['after', 424, undefined]]);
    assert.match(responses[1]!.body!.error!.message, /evaluates only \$<id>\/\$succeeded/);
    assert.deepEqual(await items(), before_);
    const malformed = await srv.request('POST', '$batch', { body: { requests: [{ id: 'x', if: '$later/$succeeded', method: 'get', url: 'item' }, { id: 'later', method: 'get', url: 'item' }] } });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: { message: string } }).error.message, /refers to "later", which is not a request or atomicityGroup before it/);
  });

  it('400 for a malformed JSON batch and over the cap', async () => {
    assert.equal((await srv.request('POST', '$batch', { body: { requests: [{ id: '1', url: 'item' }] } })).status, 400);
    const many = Array.from({ length: 6 }, (_, i) => ({ id: String(i), method: 'get', url: 'item' }));
    assert.equal((await srv.request('POST', '$batch', { body: { requests: many } })).status, 400);
    // an atomicityGroup may not share its name with a request id (JSON Format 19.1), either way round
    const before_ = await items();
    for (const requests of [
      [{ id: 'g', atomicityGroup: 'g', method: 'post', url: 'item', body: { name: 'same-name' } }],
      [{ id: '1', atomicityGroup: 'g', method: 'post', url: 'item', body: { name: 'x' } }, { id: 'g', method: 'post', url: 'item', body: { name: 'y' } }],
    ]) {
      const r = await srv.request('POST', '$batch', { body: { requests } });
      assert.equal(r.status, 400);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /"g" is both a request id and an atomicityGroup/);
    }
    assert.deepEqual(await items(), before_);
  });
});
