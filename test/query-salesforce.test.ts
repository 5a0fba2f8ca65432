/**
 * Issue 3, the Salesforce Connect side: the requests REFERENCE.md documents for the OData 4.0/4.01
 * adapter, replayed verbatim against the demo schema (exposed as config/default.json does), plus
 * server-driven paging walks of a 30,000-row table (page size 2000 and Prefer: odata.maxpagesize),
 * keyset paging over a nullable order column, $top across pages, the $top that Salesforce sends together
 * with a $skiptoken, 4.0 vs 4.01 answers, and the case/`$`-less forms of system query options.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_SQL } from '../src/db/demo.js';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { readJson, withLastCharChanged } from './helpers/http.js';

const BIG_SQL = `
create table public.big (id int primary key, grp int not null, score int, label text);
insert into public.big
select g, g % 10, case when g % 7 = 0 then null else (g * 7919) % 1000 end, 'row ' || g
  from generate_series(1, 30000) g;
analyze public.big;
`;

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(`${DEMO_SQL}\n${BIG_SQL}`);
  srv = await startTestServer(db.url, {
    pageSize: 2000,
    expose: [
      { name: 'salesforce.account', versionColumn: 'systemmodstamp' },
      { name: 'salesforce.contact', versionColumn: 'systemmodstamp' },
      { name: 'salesforce.opportunity', versionColumn: 'systemmodstamp' },
      { name: 'public.account_summary', key: ['id'] },
      'public.big',
    ],
  });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

const json = readJson;

async function ok(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: Record<string, any> }> {
  const res = await srv.get(path, headers);
  const body = await json(res);
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body).slice(0, 400)}`);
  return { res, body };
}

/** Encodes what Salesforce writes literally in its logs: spaces, quotes, commas as a client's URL encoder would. */
function url(path: string): string {
  const [p, qs] = path.split('?') as [string, string | undefined];
  if (!qs) return p;
  return `${p}?${qs
    .split('&')
    .map((kv) => {
      const i = kv.indexOf('=');
      return `${kv.slice(0, i)}=${encodeURIComponent(kv.slice(i + 1))}`;
    })
    .join('&')}`;
}

async function walk(path: string, headers: Record<string, string> = {}): Promise<{ rows: Record<string, any>[]; pages: Record<string, any>[]; first: Response }> {
  const rows: Record<string, any>[] = [];
  const pages: Record<string, any>[] = [];
  let next: string | undefined = path;
  let first: Response | undefined;
  while (next !== undefined) {
    const { res, body } = await ok(next, headers);
    first ??= res;
    pages.push(body);
    rows.push(...(body['value'] as Record<string, any>[]));
    next = body['@odata.nextLink'] as string | undefined;
    assert.ok(pages.length <= 100, 'paging terminates');
  }
  return { rows, pages, first: first! };
}

const ACCOUNT_SEARCHABLE = ['sfid', 'name', 'accountnumber', 'type', 'industry', 'billingcity', 'billingstate', 'billingcountry', 'phone', 'website', 'rating', 'description', '_hc_lastop', '_hc_err'];
const searchWhere = (term: string): string => `coalesce(${ACCOUNT_SEARCHABLE.map((c) => `${c} like '%${term}%'`).join(' or ')}, false)`;

async function sqlIds(sql: string): Promise<number[]> {
  return (await db.query<{ id: number }>(sql)).map((r) => r.id);
}

describe('documented Salesforce Connect requests', () => {
  it('list view with a filter: $select,$count=true,$filter=contains(..) eq true or contains(..) eq true,$top=25', async () => {
    const { res, body } = await ok(url("account?$select=name,phone,id&$count=true&$filter=contains(name,'Account 1') eq true or contains(phone,'Account 1') eq true&$top=25"));
    const want = await sqlIds(`select id from salesforce.account where name like '%Account 1%' or phone like '%Account 1%' order by id`);
    assert.equal(body['@odata.count'], want.length);
    assert.deepEqual(body['value'].map((r: any) => r.id), want.slice(0, 25));
    assert.deepEqual(Object.keys(body['value'][0]).filter((k) => !k.startsWith('@')), ['id', 'name', 'phone']);
    assert.equal(body['@odata.nextLink'], undefined, 'client paging with $top: no nextLink when $top is met');
    assert.match(body['@odata.context'], /\$metadata#account\((name,phone,id|id,name,phone)\)$/);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  it('free-text search: $search=Acme (no match) and $search=Brien', async () => {
    const none = (await ok(url('account?$select=name,phone,id&$count=true&$search=Acme&$top=25'))).body;
    assert.equal(none['@odata.count'], 0);
    assert.deepEqual(none['value'], []);
    const { body } = await ok(url('account?$select=name,phone,id&$count=true&$search=Brien&$top=25'));
    const want = await sqlIds(`select id from salesforce.account where ${searchWhere('Brien')} order by id`);
    assert.ok(want.length > 25);
    assert.equal(body['@odata.count'], want.length);
    assert.deepEqual(body['value'].map((r: any) => r.id), want.slice(0, 25));
    // a hyphenated term, as Salesforce keeps hyphens
    const h = (await ok(url('account?$select=id&$count=true&$search=Customer - Direct&$top=25'))).body;
    const wantH = await sqlIds(`select id from salesforce.account where ${searchWhere('Customer')} and ${searchWhere('-')} and ${searchWhere('Direct')} order by id`);
    assert.equal(h['@odata.count'], wantH.length);
    const phrase = (await ok(url('account?$select=id&$count=true&$search="Customer - Direct"&$top=25'))).body;
    assert.equal(phrase['@odata.count'], (await sqlIds(`select id from salesforce.account where ${searchWhere('Customer - Direct')}`)).length);
  });

  it('page size + 1: $select=id&$count=true&$top=26', async () => {
    const { body } = await ok('account?$select=id&$count=true&$top=26');
    assert.equal(body['@odata.count'], 1500);
    assert.deepEqual(body['value'].map((r: any) => r.id), Array.from({ length: 26 }, (_, i) => i + 1));
    assert.equal(body['@odata.nextLink'], undefined);
  });

  it('$count=false is accepted and yields no count', async () => {
    const { body } = await ok('contact?$select=id&$count=false&$top=5');
    assert.equal(body['@odata.count'], undefined);
    assert.equal(body['value'].length, 5);
  });

  it('$top=301 with a real $skiptoken: the page is at most min($top, page size, what the token still owes)', async () => {
    // Salesforce pages server-driven; it replays the nextLink with its own $top added
    const first = await ok(url('contact?$count=true&$select=firstname,id,birthdate,createddate'), { Prefer: 'odata.maxpagesize=300' });
    assert.equal(first.body['value'].length, 300);
    assert.equal(first.res.headers.get('preference-applied'), 'odata.maxpagesize=300');
    const next = first.body['@odata.nextLink'] as string;
    assert.ok(next);
    const token = new URL(next).searchParams.get('$skiptoken')!;
    const replay = await ok(url(`contact?$count=true&$select=firstname,id,birthdate,createddate&$top=301`) + `&$skiptoken=${encodeURIComponent(token)}`);
    const ids = replay.body['value'].map((r: any) => r.id);
    assert.equal(replay.body['@odata.count'], 3000);
    assert.deepEqual(ids, Array.from({ length: 301 }, (_, i) => 301 + i), 'continues after the token, $top rows');
    // with maxpagesize the page is the smaller one and the nextLink owes the rest of $top
    const small = await ok(url(`contact?$count=true&$select=firstname,id,birthdate,createddate&$top=301`) + `&$skiptoken=${encodeURIComponent(token)}`, { Prefer: 'odata.maxpagesize=100' });
    assert.equal(small.body['value'].length, 100);
    const rest = await walk(small.body['@odata.nextLink'], { Prefer: 'odata.maxpagesize=100' });
    assert.equal(rest.rows.length, 201);
    assert.deepEqual([...small.body['value'], ...rest.rows].map((r: any) => r.id), Array.from({ length: 301 }, (_, i) => 301 + i));
    // a token that still owes fewer rows than $top: the token wins
    const t1 = await ok('contact?$select=id&$top=350', { Prefer: 'odata.maxpagesize=300' });
    const owed = new URL(t1.body['@odata.nextLink']).searchParams.get('$skiptoken')!;
    const last = await ok(`contact?$select=id&$top=301&$skiptoken=${encodeURIComponent(owed)}`);
    assert.deepEqual(last.body['value'].map((r: any) => r.id), Array.from({ length: 50 }, (_, i) => 301 + i));
    assert.equal(last.body['@odata.nextLink'], undefined);
  });

  it('the public view with its configured key', async () => {
    const { body } = await ok(url('account_summary?$select=id,name,total_amount&$orderby=total_amount desc,name&$top=10&$count=true'));
    const want = await sqlIds('select id from public.account_summary order by total_amount desc, name, id limit 10');
    assert.deepEqual(body['value'].map((r: any) => r.id), want);
    assert.equal(body['@odata.count'], Number((await db.query<{ n: string }>('select count(*) as n from public.account_summary'))[0]!.n));
  });
});

describe('server-driven paging of a 30,000-row table', () => {
  it('pageSize 2000: 15 pages, every row once, in order', async () => {
    const { rows, pages } = await walk('big?$select=id&$count=true');
    assert.equal(pages.length, 15);
    for (const p of pages) {
      assert.ok(p['value'].length <= 2000);
      assert.equal(p['@odata.count'], 30000);
    }
    assert.deepEqual(rows.map((r) => r['id']), Array.from({ length: 30000 }, (_, i) => i + 1));
  });

  it('Prefer: odata.maxpagesize=777 -> Preference-Applied and pages of 777', async () => {
    const { rows, pages, first } = await walk('big?$select=id', { Prefer: 'odata.maxpagesize=777' });
    assert.equal(first.headers.get('preference-applied'), 'odata.maxpagesize=777');
    assert.equal(pages.length, Math.ceil(30000 / 777));
    for (const p of pages.slice(0, -1)) assert.equal(p['value'].length, 777);
    assert.deepEqual(rows.map((r) => r['id']), Array.from({ length: 30000 }, (_, i) => i + 1));
  });

  it('with a $filter and a nullable $orderby column (keyset over nulls), both directions', async () => {
    for (const [orderby, sqlOrder] of [
      ['score desc', 'score desc nulls last, id'],
      ['score,label desc', 'score asc nulls first, label desc, id'],
      ['grp desc,score', 'grp desc, score asc nulls first, id'],
    ] as const) {
      const { rows } = await walk(url(`big?$select=id,score&$filter=grp ne 3 and id le 25000&$orderby=${orderby}`), { Prefer: 'odata.maxpagesize=1500' });
      const want = await sqlIds(`select id from public.big where grp <> 3 and id <= 25000 order by ${sqlOrder}`);
      assert.equal(rows.length, want.length, orderby);
      assert.equal(new Set(rows.map((r) => r['id'])).size, rows.length, 'no row twice');
      assert.deepEqual(rows.map((r) => r['id']), want, orderby);
    }
  });

  it('$top=5000 across pages delivers exactly 5000 rows; $skip with paging', async () => {
    const { rows, pages } = await walk(url('big?$select=id&$orderby=score desc&$top=5000'));
    assert.equal(pages.length, 3);
    assert.equal(rows.length, 5000);
    assert.deepEqual(rows.map((r) => r['id']), await sqlIds('select id from public.big order by score desc nulls last, id limit 5000'));
    const s = await walk(url('big?$select=id&$top=4100&$skip=27000'));
    assert.deepEqual(s.rows.map((r) => r['id']), Array.from({ length: 3000 }, (_, i) => 27001 + i));
  });
});

describe('pages read again (the planned page and its nextLink are remembered per URL)', () => {
  it('a repeated page and a repeated token page read the rows as they are now, and their nextLinks follow', async () => {
    const h = { Prefer: 'odata.maxpagesize=3' };
    const path = 'big?$select=id,label&$filter=id le 9';
    const ids = (b: Record<string, any>) => b['value'].map((r: any) => r.id);
    const p1 = (await ok(url(path), h)).body;
    assert.deepEqual(ids(p1), [1, 2, 3]);
    assert.equal((await ok(url(path), h)).body['@odata.nextLink'], p1['@odata.nextLink'], 'same rows, same link');
    const l1 = p1['@odata.nextLink'] as string;
    const p2 = (await ok(l1, h)).body;
    assert.deepEqual(ids(p2), [4, 5, 6]);
    assert.deepEqual((await ok(l1, h)).body, p2, 'a token page read again is the same while nothing changed');
    try {
      // Row 3 leaves the range (its key moves) and row 5 is renamed: page 1 now ends at row 4.
      await db.query(`update public.big set id = 30003 where id = 3; update public.big set label = 'renamed' where id = 5`);
      const q1 = (await ok(url(path), h)).body;
      assert.deepEqual(ids(q1), [1, 2, 4]);
      assert.notEqual(q1['@odata.nextLink'], l1, 'the link is built from the page as read now');
      assert.deepEqual(ids((await ok(q1['@odata.nextLink'], h)).body), [5, 6, 7]);
      const q2 = (await ok(l1, h)).body;
      assert.deepEqual(ids(q2), [4, 5, 6], 'the old token resumes after row 3 as it always did');
      assert.equal(q2['value'][1].label, 'renamed', 'read again from the table, not remembered');
      // A token of the remembered page with one character changed is still refused.
      const token = new URL(l1).searchParams.get('$skiptoken')!;
      const forged = withLastCharChanged(token);
      const res = await srv.get(`big?$select=id,label&$filter=id%20le%209&$skiptoken=${encodeURIComponent(forged)}`, h);
      assert.equal(res.status, 400);
      assert.equal(((await json(res)) as any).error.code, 'InvalidSkipToken');
    } finally {
      await db.query(`update public.big set id = 3 where id = 30003; update public.big set label = 'row 5' where id = 5`);
    }
  });
});

describe('the response size cap ends pages early and paging resumes exactly', () => {
  it('maxResponseBytes 65536: pages under the cap, every row once, in order, $top honoured', async () => {
    const small = await startTestServer(db.url, { pageSize: 2000, server: { rootPath: '/odata/v4', maxResponseBytes: 65536 }, expose: ['public.big'] });
    try {
      const seen: number[] = [];
      let next: string | undefined = `big?${'$'}filter=${encodeURIComponent('id le 6000')}&${'$'}orderby=${encodeURIComponent('score desc')}`;
      let pages = 0;
      while (next) {
        const res = await small.get(next);
        const text = await res.text();
        assert.equal(res.status, 200, text.slice(0, 300));
        assert.ok(Buffer.byteLength(text) <= 65536, `page of ${Buffer.byteLength(text)} bytes`);
        const body = JSON.parse(text) as Record<string, any>;
        seen.push(...body['value'].map((r: any) => r.id));
        next = body['@odata.nextLink'];
        pages++;
        assert.ok(pages < 50);
      }
      assert.ok(pages > 3, `${pages} pages`);
      assert.deepEqual(seen, await sqlIds('select id from public.big where id <= 6000 order by score desc nulls last, id'));
      let got = 0;
      next = `big?${'$'}top=1000&${'$'}orderby=label`;
      while (next) {
        const body = (await (await small.get(next)).json()) as Record<string, any>;
        got += body['value'].length;
        next = body['@odata.nextLink'];
      }
      assert.equal(got, 1000);
    } finally {
      await small.stop();
    }
  });
});

describe('versions and option spellings', () => {
  it('OData-MaxVersion: 4.0 -> OData-Version: 4.0 with @odata.count and @odata.nextLink', async () => {
    for (const h of [{ 'OData-MaxVersion': '4.0' }, { 'OData-MaxVersion': '4.01' }, {} as Record<string, string>]) {
      const res = await srv.get('big?$select=id&$count=true&$top=3000', h);
      const text = await res.text();
      assert.equal(res.status, 200);
      if (h['OData-MaxVersion'] === '4.0') assert.equal(res.headers.get('odata-version'), '4.0');
      const body = JSON.parse(text);
      assert.equal(body['@odata.count'], 30000);
      assert.ok(body['@odata.nextLink']);
      assert.doesNotMatch(text, /"@count"|"@nextLink"|"@context"/);
      assert.ok(text.startsWith('{"@odata.context"'), '@odata.context comes first');
    }
  });

  it('$FILTER, filter= (no $, 4.01), $Top, $SELECT, $orderBy, $Count are the same options', async () => {
    const want = (await ok(url("account?$filter=industry eq 'Finance'&$top=7&$select=id&$orderby=name desc&$count=true"))).body;
    for (const variant of [
      "account?$FILTER=industry eq 'Finance'&$Top=7&$SELECT=id&$orderBy=name desc&$Count=true",
      "account?filter=industry eq 'Finance'&top=7&select=id&orderby=name desc&count=true",
      "account?Filter=industry eq 'Finance'&$TOP=7&select=id&$OrderBy=name desc&COUNT=TRUE",
    ]) {
      const got = (await ok(url(variant))).body;
      assert.deepEqual(got['value'], want['value'], variant);
      assert.equal(got['@odata.count'], want['@odata.count']);
    }
    // the nextLink keeps working when the client spelled options without $
    const { rows } = await walk(url("big?filter=grp eq 1&select=id&orderby=score desc"), { Prefer: 'odata.maxpagesize=500' });
    assert.deepEqual(rows.map((r) => r['id']), await sqlIds('select id from public.big where grp = 1 order by score desc nulls last, id'));
  });
});
