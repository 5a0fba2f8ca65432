/**
 * A $batch response is held to the server's response cap as a whole: inner collection reads are paged
 * under the budget the earlier inner responses left (each page keeps at least one entity and links to
 * the rest), so a batch of many large reads cannot build a response of many times the cap in memory.
 * Without a batch, a read still gets the whole cap.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CAP = 65536;
const FIXTURE = `
create table public.wide (id int primary key, payload text not null);
insert into public.wide select i, repeat(chr(97 + i % 26), 2000) from generate_series(1, 300) i;
`;

let db: TestDb;
let srv: TestServer;
before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.wide'], pageSize: 1000, server: { rootPath: '/odata/v4', maxResponseBytes: CAP }, batch: { maxRequests: 20 } });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

interface Page {
  value: { id: number; payload: string }[];
  '@odata.nextLink'?: string;
}

describe('$batch response budget', () => {
  it('a read outside a batch fills the whole cap', async () => {
    const res = await srv.get('wide');
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(text.length <= CAP && text.length > CAP - 8192, `page of ${text.length} bytes`);
    assert.ok((JSON.parse(text) as Page)['@odata.nextLink']);
  });

  it('JSON batch: ten full reads share one cap, each page still has an entity and a nextLink that continues it', async () => {
    const requests = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, method: 'GET', url: 'wide' }));
    const res = await srv.request('POST', '$batch', { body: { requests } });
    const text = await res.text();
    assert.equal(res.status, 200, text.slice(0, 300));
    // the cap, plus at most one entity (~2 KB) and an envelope per inner response
    assert.ok(text.length <= CAP + 10 * 4096, `batch response of ${text.length} bytes`);
    const responses = (JSON.parse(text) as { responses: { id: string; status: number; body: Page }[] }).responses;
    assert.equal(responses.length, 10);
    const sizes = responses.map((r) => r.body.value.length);
    for (const r of responses) {
      assert.equal(r.status, 200);
      assert.ok(r.body.value.length >= 1, `${r.id} holds an entity`);
      assert.ok(r.body['@odata.nextLink'], `${r.id} links to the rest`);
    }
    assert.ok(sizes[0]! > 20, `the first read takes most of the budget (${sizes.join(',')})`);
    assert.equal(sizes[9], 1, `the last reads get one entity each (${sizes.join(',')})`);
    // the last inner page continues where it stopped
    const next = await srv.get(responses[9]!.body['@odata.nextLink']!);
    assert.equal(next.status, 200);
    const cont = (await next.json()) as Page;
    assert.equal(cont.value[0]!.id, 2);
  });

  it('multipart batch: five full reads share one cap', async () => {
    const CRLF = '\r\n';
    const part = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary', '', 'GET wide HTTP/1.1', 'Accept: application/json', '', ''].join(CRLF);
    const body = Array.from({ length: 5 }, () => `--b${CRLF}${part}${CRLF}`).join('') + `--b--${CRLF}`;
    const res = await srv.request('POST', '$batch', { body, headers: { 'Content-Type': 'multipart/mixed; boundary=b' } });
    const text = await res.text();
    assert.equal(res.status, 200, text.slice(0, 300));
    assert.ok(text.length <= CAP + 5 * 4096, `batch response of ${text.length} bytes`);
    assert.equal([...text.matchAll(/^HTTP\/1\.1 200/gm)].length, 5);
    assert.equal([...text.matchAll(/@odata\.nextLink/g)].length, 5);
  });
});
