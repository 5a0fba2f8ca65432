/**
 * Issue 2 end to end: a database with every mapped type (and some unmapped ones), served over HTTP.
 * $metadata maps each type as documented and validates against the OASIS schema; every value
 * round-trips exactly in JSON; keys (single, composite, both forms), properties and $value; metadata
 * levels, IEEE754Compatible, HEAD; and every error case with status, code and message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { readJson } from './helpers/http.js';

const fixture = readFileSync(new URL('./fixtures/types.sql', import.meta.url), 'utf8');
const shared = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'shared');

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(fixture);
  srv = await startTestServer(db.url, {
    expose: ['public.*'],
    pageSize: 100,
  });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

const json = readJson;

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<Record<string, any>> {
  const body = await json(res);
  assert.equal(res.status, status, JSON.stringify(body));
  assert.ok(body['error'], 'has an OData error body');
  assert.equal(body['error'].code, code);
  assert.equal(typeof body['error'].message, 'string');
  if (message) assert.match(body['error'].message, message);
  assert.doesNotMatch(JSON.stringify(body), /select |from "|\bat .*\.ts:\d+/i, 'no SQL text or stack trace');
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return body;
}

describe('$metadata', () => {
  it('maps every type as documented and leaves unmapped columns out', async () => {
    const res = await srv.get('$metadata');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/xml/);
    const xml = await res.text();
    assert.match(xml, /<edmx:Edmx [^>]*Version="4.0"/);
    const prop = (name: string): string => {
      const m = new RegExp(`<Property Name="${name}"[^>]*?/?>`).exec(xml);
      assert.ok(m, `property ${name} present`);
      return m[0];
    };
    const expect: Record<string, RegExp> = {
      id: /Type="Edm.Int32" Nullable="false"/,
      c_smallint: /Type="Edm.Int16"/,
      c_integer: /Type="Edm.Int32" Nullable="false"/,
      c_bigint: /Type="Edm.Int64"/,
      c_numeric: /Type="Edm.Decimal" Precision="38" Scale="10"/,
      c_numeric_free: /Type="Edm.Decimal" Scale="variable"/,
      c_real: /Type="Edm.Single"/,
      c_double: /Type="Edm.Double"/,
      c_boolean: /Type="Edm.Boolean"/,
      c_text: /Type="Edm.String"/,
      c_varchar: /Type="Edm.String" MaxLength="20"/,
      c_char: /Type="Edm.String" MaxLength="5"/,
      c_uuid: /Type="Edm.Guid"/,
      c_date: /Type="Edm.Date"/,
      c_timestamptz: /Type="Edm.DateTimeOffset" Precision="6"/,
      c_timestamp: /Type="Edm.DateTimeOffset" Precision="6"/,
      c_timestamptz3: /Type="Edm.DateTimeOffset" Precision="3"/,
      c_time: /Type="Edm.TimeOfDay" Precision="6"/,
      c_bytea: /Type="Edm.Binary"/,
      c_interval: /Type="Edm.Duration"/,
      c_json: /Type="Edm.String"/,
      c_jsonb: /Type="Edm.String"/,
      c_enum: /Type="Edm.String"/,
      c_domain: /Type="Edm.String" MaxLength="10"/,
    };
    for (const [name, re] of Object.entries(expect)) assert.match(prop(name), re, name);
    assert.doesNotMatch(prop('c_text'), /MaxLength/);
    for (const gone of ['c_point', 'c_int_array', 'c_money', 'c_tsvector']) assert.ok(!xml.includes(`"${gone}"`), `${gone} left out`);
    assert.match(xml, /<Property Name="c_identity"[^>]*><Annotation Term="Core.Computed" Bool="true"\/>/);
    assert.match(xml, /<Key><PropertyRef Name="region"\/><PropertyRef Name="code"\/><\/Key>/);
    assert.match(xml, /Core.Description" String="A &quot;text&quot; column &lt;with&gt; markup &amp; quotes"/);
    assert.match(xml, /<EntitySet Name="items_view"[^>]*><Annotation Term="Capabilities.InsertRestrictions">/);
    assert.ok(!xml.includes('nopk'), 'a table without a primary key is left out');
    assert.ok(!xml.includes('nokey_view'), 'a view without its key column is left out');
    assert.ok(!xml.includes('secret'), 'unexposed schema is absent');
    assert.ok(srv.logs.some((l) => l.includes('c_point') && l.includes('not supported')), 'unmapped column warned in the log');
    assert.ok(srv.logs.some((l) => l.includes('public.nopk') && l.includes('no primary key')), 'table without key warned');
  });

  it('validates against the OASIS CSDL XML schema', async (t) => {
    const xsd = path.join(shared, 'odata', 'csdl', 'edmx.xsd');
    if (!existsSync(xsd)) return t.skip(`../shared/odata/csdl/edmx.xsd is absent (a user's clone has no ../shared): schema validation skipped`);
    let hasXmllint = true;
    try {
      execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    } catch {
      hasXmllint = false;
    }
    if (!hasXmllint) return t.skip('xmllint is not installed (Debian package libxml2-utils): schema validation skipped');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'md-'));
    for (const [name, cfg] of [['plain', srv], ['demo', undefined]] as const) {
      if (!cfg) continue;
      const file = path.join(dir, `${name}.xml`);
      writeFileSync(file, await (await srv.get('$metadata')).text());
      execFileSync('xmllint', ['--noout', '--schema', xsd, file], { stdio: 'pipe' });
    }
  });

  it('answers CSDL JSON for $format=json and Accept: application/json', async () => {
    for (const res of [await srv.get('$metadata?$format=json'), await srv.get('$metadata', { Accept: 'application/json' })]) {
      assert.equal(res.status, 200);
      const doc = await json(res);
      assert.equal(doc['$Version'], '4.0');
      const ns = doc['PG'];
      assert.deepEqual(ns['alltypes']['$Key'], ['id']);
      assert.deepEqual(ns['alltypes']['c_numeric'], { $Type: 'Edm.Decimal', $Nullable: true, $Precision: 38, $Scale: 10 });
      assert.equal(ns['alltypes']['c_numeric_free']['$Scale'], 'variable');
      assert.equal(ns['Container']['items_view']['@Capabilities.InsertRestrictions'].Insertable, false);
      assert.equal(ns['Container']['@Core.ODataVersions'], '4.0 4.01', 'the versions the service speaks (Protocol 12.2.1)');
    }
    assert.match(await (await srv.get('$metadata')).text(), /<Annotation Term="Core.ODataVersions" String="4.0 4.01"\/><\/EntityContainer>/);
    // CSDL JSON is 4.01: a 4.0 client gets CSDL XML even when it accepts JSON (SAP SDK, Power Query)
    for (const res of [await srv.get('$metadata', { Accept: 'application/json', 'OData-MaxVersion': '4.0' }), await srv.get('$metadata?$format=json', { 'OData-MaxVersion': '4.0' })]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('odata-version'), '4.0');
      assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
      assert.match(await res.text(), /^<\?xml /);
    }
  });

  it('serves the service document', async () => {
    const res = await srv.get('');
    assert.equal(res.status, 200);
    const doc = await json(res);
    assert.equal(doc['@odata.context'], `${srv.root}$metadata`);
    assert.deepEqual(doc['value'].map((v: { name: string }) => v.name).sort(), ['alltypes', 'composite', 'items_view', 'many']);
    assert.equal(res.headers.get('odata-version'), '4.01');
  });
});

describe('values round-trip exactly', () => {
  it('renders every type of row 1 digit for digit', async () => {
    const res = await srv.get('alltypes(1)');
    assert.equal(res.status, 200);
    const text = await res.text();
    // exact digits checked on the raw text, before JSON.parse can round them
    assert.match(text, /"c_bigint" ?: ?9007199254740993[,}\s]/);
    assert.match(text, /"c_numeric" ?: ?1234567890123456789012345678.0123456789[,}\s]/);
    assert.match(text, /"c_numeric_free" ?: ?0.000000000000000000001[,}\s]/);
    assert.match(text, /"c_money_like" ?: ?-9999999999999999.99[,}\s]/);
    const e = JSON.parse(text) as Record<string, unknown>;
    assert.equal(e['@odata.context'], `${srv.root}$metadata#alltypes/$entity`);
    assert.equal(e['c_smallint'], -32768);
    assert.equal(e['c_integer'], 1000000);
    assert.equal(e['c_real'], 1.5);
    assert.equal(e['c_double'], 0.1);
    assert.equal(e['c_boolean'], true);
    assert.equal(e['c_text'], 'héllo "wörld" \'quoted\'');
    assert.equal(e['c_char'], 'ab   ');
    assert.equal(e['c_uuid'], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.equal(e['c_date'], '2024-02-29');
    assert.equal(new Date(e['c_timestamptz'] as string).toISOString(), '2024-03-01T10:34:56.123Z');
    assert.match(e['c_timestamptz'] as string, /^2024-03-01T10:34:56\.123456(\+00:00|Z)$/);
    assert.match(e['c_timestamp'] as string, /^2024-03-01T12:34:56\.654321(\+00:00|Z)$/);
    assert.equal(e['c_time'], '23:59:59.999999');
    assert.equal(e['c_bytea'], Buffer.from('deadbeeffbff', 'hex').toString('base64url'));
    assert.equal(e['c_interval'], 'PT26H3M4.5S');
    assert.equal(e['c_json'], '{"a": [1, 2]}');
    assert.equal(e['c_jsonb'], '{"b": null}');
    assert.equal(e['c_enum'], 'happy');
    assert.equal(e['c_domain'], 'dom');
    assert.equal(e['c_generated'], 2000000);
    assert.ok(!('c_point' in e) && !('c_money' in e), 'unmapped columns are not in payloads');
    const db1 = (await db.query<{ n: string; b: string }>('select c_numeric::text as n, c_bigint::text as b from alltypes where id = 1'))[0]!;
    assert.ok(text.includes(db1.n) && text.includes(db1.b));
  });

  it('writes nulls, never omits them', async () => {
    const e = await json(await srv.get('alltypes(2)'));
    for (const k of ['c_smallint', 'c_bigint', 'c_numeric', 'c_text', 'c_uuid', 'c_date', 'c_timestamptz', 'c_bytea', 'c_interval', 'c_enum']) {
      assert.ok(k in e, `${k} present`);
      assert.equal(e[k], null, k);
    }
  });

  it('renders extremes: min bigint, negative interval, infinity, empty bytea and string', async () => {
    const text = await (await srv.get('alltypes(3)')).text();
    assert.match(text, /"c_bigint" ?: ?-9223372036854775808[,}\s]/);
    assert.match(text, /"c_numeric_free" ?: ?123456789012345678901234567890.5[,}\s]/);
    const e = JSON.parse(text) as Record<string, unknown>;
    assert.equal(e['c_interval'], '-PT72H');
    assert.equal(e['c_real'], 'INF');
    assert.equal(e['c_double'], -1e300);
    assert.equal(e['c_bytea'], '');
    assert.equal(e['c_text'], '');
    assert.equal(e['c_date'], '0001-01-01');
  });

  it('writes Int64 and Decimal as strings with IEEE754Compatible=true', async () => {
    const res = await srv.get('alltypes(1)', { Accept: 'application/json;IEEE754Compatible=true' });
    assert.match(res.headers.get('content-type') ?? '', /IEEE754Compatible=true/);
    const e = await json(res);
    assert.equal(e['c_bigint'], '9007199254740993');
    assert.equal(e['c_numeric'], '1234567890123456789012345678.0123456789');
    assert.equal(e['c_integer'], 1000000);
    const list = await json(await srv.get('many?$count=true&$top=1', { Accept: 'application/json;odata.metadata=minimal;IEEE754Compatible=true' }));
    assert.equal(list['@odata.count'], '250');
  });
});

describe('reading', () => {
  it('returns the first page with a nextLink when more rows exist', async () => {
    const res = await srv.get('many');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json;odata.metadata=minimal/);
    const body = await json(res);
    assert.equal(Object.keys(body)[0], '@odata.context');
    assert.equal(body['value'].length, 100);
    assert.equal(body['value'][0].id, 1);
    assert.ok(body['@odata.nextLink'].startsWith(srv.root + 'many?'));
    const seen = new Set<number>();
    let link: string | undefined = `${srv.root}many`;
    while (link) {
      const page = await json(await srv.get(link));
      for (const r of page['value']) {
        assert.ok(!seen.has(r.id), 'no row twice');
        seen.add(r.id);
      }
      link = page['@odata.nextLink'];
    }
    assert.equal(seen.size, 250);
  });

  it('reads single and composite keys in both forms', async () => {
    assert.equal((await json(await srv.get('many(5)')))['n'], 5);
    assert.equal((await json(await srv.get('many(id=5)')))['n'], 5);
    const c = await json(await srv.get("composite(region='eu',code=2)"));
    assert.equal(c['label'], 'two');
    assert.equal((await json(await srv.get("composite(code=1,region='us')")))['label'], 'uno');
    assert.equal((await json(await srv.get("composite(region='o''x',code=3)")))['label'], 'quote');
    const full = await json(await srv.get("composite(region='eu',code=1)?$format=application/json;odata.metadata=full"));
    assert.equal(full['@odata.id'], `${srv.root}composite(region='eu',code=1)`);
    assert.equal(full['@odata.editLink'], "composite(region='eu',code=1)");
    assert.equal(full['@odata.type'], '#PG.composite');
    const view = await json(await srv.get('items_view(1)'));
    assert.equal(view['label'], 'héllo "wörld" \'quoted\'');
    // full metadata names the type of each property whose JSON value does not tell it (JSON Format 4.5.3)
    const typed = await json(await srv.get('alltypes(1)?$select=id,c_bigint,c_text,c_date&$format=application/json;odata.metadata=full'));
    assert.equal(typed['c_bigint@odata.type'], '#Int64');
    assert.equal(typed['c_date@odata.type'], '#Date');
    assert.equal(typed['c_text@odata.type'], undefined);
    assert.equal(typed['id@odata.type'], '#Int32', 'numbers other than Double name their type');
    const typedPage = (await json(await srv.get('alltypes?$top=1&$format=application/json;odata.metadata=full')))['value'] as Record<string, unknown>[];
    assert.equal(typedPage[0]!['c_uuid@odata.type'], '#Guid');
    // a read-only set's entities carry a read link, not an edit link (JSON Format 4.5.8, 4.5.9)
    const viewFull = await json(await srv.get('items_view(1)?$format=application/json;odata.metadata=full'));
    assert.equal(viewFull['@odata.readLink'], 'items_view(1)');
    assert.equal(viewFull['@odata.editLink'], undefined);
  });

  it('a projection without the key carries @odata.id in minimal metadata (JSON Format 4.5.8), not with none', async () => {
    const one = await json(await srv.get("composite(region='eu',code=1)?$select=label"));
    assert.equal(one['@odata.id'], `${srv.root}composite(region='eu',code=1)`);
    assert.equal(one['label'], 'one');
    const page = (await json(await srv.get("composite?$select=label&$orderby=code&$filter=region eq 'eu'")))['value'] as Record<string, unknown>[];
    assert.deepEqual(page.map((e) => e['@odata.id']), page.map((_, i) => `${srv.root}composite(region='eu',code=${i + 1})`));
    assert.ok(page.length >= 2);
    const withKey = (await json(await srv.get('composite?$select=label,region,code&$top=1')))['value'] as Record<string, unknown>[];
    assert.equal(withKey[0]!['@odata.id'], undefined, 'every key property is there: no id needed');
    const none = (await json(await srv.get('composite?$select=label&$top=1&$format=application/json;odata.metadata=none')))['value'] as Record<string, unknown>[];
    assert.deepEqual(Object.keys(none[0]!), ['label']);
  });

  it('reads a property and its raw $value', async () => {
    const p = await json(await srv.get('many(4)/label'));
    assert.deepEqual(p, { '@odata.context': `${srv.root}$metadata#many(4)/label`, value: 'row 4' });
    const cp = await json(await srv.get("composite(region='o''x',code=3)/label"));
    assert.equal(cp['@odata.context'], `${srv.root}$metadata#composite(region='o''x',code=3)/label`);
    const v = await srv.get('many(4)/label/$value');
    assert.equal(v.status, 200);
    assert.match(v.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal(await v.text(), 'row 4');
    const n = await srv.get('many(3)/label');
    assert.equal(n.status, 204, 'a null property has no content');
    const bin = await srv.get('alltypes(1)/c_bytea/$value');
    assert.equal(bin.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(Buffer.from(await bin.arrayBuffer()), Buffer.from('deadbeeffbff', 'hex'));
    assert.equal(await (await srv.get('alltypes(1)/c_timestamptz/$value')).text(), '2024-03-01T10:34:56.123456+00:00');
  });

  it('supports metadata=full and none', async () => {
    const full = await json(await srv.get('many?$top=1', { Accept: 'application/json;odata.metadata=full' }));
    const e = full['value'][0];
    assert.equal(e['@odata.type'], '#PG.many');
    assert.equal(e['@odata.id'], `${srv.root}many(1)`);
    assert.equal(e['@odata.editLink'], 'many(1)');
    assert.ok(e['@odata.etag'].startsWith('W/"'));
    const none = await srv.get('many?$count=true', { Accept: 'application/json;odata.metadata=none' });
    assert.match(none.headers.get('content-type') ?? '', /odata.metadata=none/);
    const nb = await json(none);
    assert.ok(!('@odata.context' in nb));
    assert.equal(nb['@odata.count'], 250);
    assert.ok(nb['@odata.nextLink']);
    assert.ok(!('@odata.etag' in nb['value'][0]));
    const doc = await json(await srv.get('', { Accept: 'application/json;odata.metadata=none' }));
    assert.ok(!('@odata.context' in doc), 'the service document has no context URL either');
    assert.ok(Array.isArray(doc['value']));
  });

  it('labels every response of a kind alike, request after request, and tells Accept headers apart (both are remembered)', async () => {
    const types: string[] = [];
    for (const accept of ['application/json;odata.metadata=none', 'application/json;odata.metadata=full', 'application/json;odata.metadata=none']) {
      for (const url of ['many?$top=1', 'many(1)', 'many(4)/label']) {
        const res = await srv.get(url, { Accept: accept });
        assert.equal(res.status, 200, url);
        await res.arrayBuffer();
        types.push(res.headers.get('content-type') ?? '');
      }
    }
    for (const t of types) assert.match(t, /^application\/json;odata\.metadata=(none|full);odata\.streaming=true;IEEE754Compatible=false; charset=utf-8$/);
    assert.deepEqual(types.slice(6), types.slice(0, 3), 'the same Accept, the same label');
    assert.ok(types.slice(3, 6).every((t) => t.includes('metadata=full')));
    const text1 = await srv.get('many(4)/label/$value');
    const text2 = await srv.get('many(4)/label/$value');
    assert.equal(text1.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(text2.headers.get('content-type'), 'text/plain; charset=utf-8');
    // a refusal is never remembered as an outcome: the same Accept is refused every time
    for (let i = 0; i < 2; i++) await expectError(await srv.get('many', { Accept: 'application/atom+xml' }), 406, 'NotAcceptable');
  });

  it('gives an entity the same ETag in a collection, alone, and in full metadata', async () => {
    const minimal = await json(await srv.get('many?$top=3'));
    const full = await json(await srv.get('many?$top=3', { Accept: 'application/json;odata.metadata=full' }));
    for (let i = 0; i < 3; i++) {
      const e = minimal['value'][i];
      assert.deepEqual(Object.keys(e)[0], '@odata.etag', 'control information comes first');
      assert.ok(!('$xmin' in e), 'the row version is not a property');
      assert.deepEqual(Object.keys(e).slice(1), ['id', 'n', 'label']);
      const one = await srv.get(`many(${e.id})`);
      assert.equal(one.headers.get('etag'), e['@odata.etag']);
      assert.equal(full['value'][i]['@odata.etag'], e['@odata.etag']);
      await one.text();
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await fetch(`${srv.root}many(1)`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(await res.text(), '');
    const missing = await fetch(`${srv.root}many(9999)`, { method: 'HEAD' });
    assert.equal(missing.status, 404);
  });

  it('If-Match on a read: 412 unless it matches (Protocol 8.2.4); Isolation: snapshot is refused with 412 (8.2.6)', async () => {
    const etag = (await srv.get('many(1)')).headers.get('etag')!;
    assert.equal((await srv.get('many(1)', { 'If-Match': etag })).status, 200);
    assert.equal((await srv.get('many(1)', { 'If-Match': '*' })).status, 200);
    assert.equal((await srv.get('many(1)', { 'If-Match': `W/"other", ${etag}` })).status, 200);
    await expectError(await srv.get('many(1)', { 'If-Match': 'W/"other"' }), 412, 'PreconditionFailed');
    await expectError(await srv.get('many(1)', { 'If-Match': 'no quotes' }), 400, 'BadRequest');
    await expectError(await srv.get('many?$top=1', { Isolation: 'snapshot' }), 412, 'PreconditionFailed', /snapshot/);
    await expectError(await srv.get('many?$top=1', { 'OData-Isolation': 'Snapshot' }), 412, 'PreconditionFailed');
  });

  it('answers OData-Version 4.0 to a 4.0 client', async () => {
    const res = await srv.get('many(1)', { 'OData-MaxVersion': '4.0' });
    assert.equal(res.headers.get('odata-version'), '4.0');
  });

  it('answers /healthz without credentials', async () => {
    const res = await fetch(`http://127.0.0.1:${srv.server.port}/healthz`);
    assert.equal(res.status, 200);
  });
});

describe('errors', () => {
  it('404 for an unknown entity set, key or property, and for unexposed objects', async () => {
    await expectError(await srv.get('nothing'), 404, 'EntitySetNotFound', /nothing/);
    await expectError(await srv.get('secret'), 404, 'EntitySetNotFound');
    await expectError(await srv.get('nopk'), 404, 'EntitySetNotFound');
    await expectError(await srv.get('many(9999)'), 404, 'EntityNotFound');
    await expectError(await srv.get('many(1)/nope'), 404, 'PropertyNotFound', /nope/);
    await expectError(await srv.get('alltypes(1)/c_point'), 404, 'PropertyNotFound');
    await expectError(await srv.get('many(1)/label/extra/segments'), 404, 'NotFound');
    await expectError(await fetch(`http://127.0.0.1:${srv.server.port}/elsewhere`), 404, 'NotFound');
  });

  it('501 for well-formed resource paths the service does not implement (URL Conventions 4)', async () => {
    for (const p of ['$all', '$crossjoin(many,composite)', 'many(1)/$ref', 'many/$ref', 'many/PG.many', 'many(1)/PG.many', 'many(@k)?@k=1', "composite(region=@r,code=1)?@r='eu'"]) {
      await expectError(await srv.get(p), 501, 'NotImplemented');
    }
    assert.equal((await srv.get("composite(region='a@b',code=1)")).status, 404, 'an @ inside a string key is a value');
  });

  it('400 for a malformed URL or key', async () => {
    await expectError(await srv.get("many('abc')"), 400, 'InvalidKey', /Edm.Int32/);
    await expectError(await srv.get('many(1'), 400, 'BadRequest');
    await expectError(await srv.get('many()'), 400, 'InvalidKey');
    await expectError(await srv.get('composite(1)'), 400, 'InvalidKey', /composite key/);
    await expectError(await srv.get("composite(region='eu')"), 400, 'InvalidKey');
    await expectError(await srv.get('many(id=1,id=2)'), 400, 'InvalidKey');
    await expectError(await srv.get('many?$top=-1'), 400, 'InvalidQueryOption', /\$top/);
    await expectError(await srv.get('many?$top=1&$top=2'), 400, 'DuplicateQueryOption');
    await expectError(await srv.get('many?$count=maybe'), 400, 'InvalidQueryOption');
    await expectError(await srv.get('many?$bogus=1'), 400, 'InvalidQueryOption', /\$bogus/);
    await expectError(await srv.get('many?$filter=%E0%A4%A'), 400, 'BadRequest', /percent-encoding/);
    await expectError(await srv.get('many(1)', { 'OData-MaxVersion': '3.0' }), 400, 'UnsupportedVersion');
  });

  it('405 with Allow for a method a resource does not allow', async () => {
    const res = await srv.request('POST', 'items_view', { body: { label: 'x' } });
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    await expectError(res, 405, 'MethodNotAllowed');
    const md = await srv.request('DELETE', '$metadata');
    assert.equal(md.headers.get('allow'), 'GET, HEAD');
    await expectError(md, 405, 'MethodNotAllowed');
    const odd = await srv.request('OPTIONS', 'many');
    assert.ok(odd.headers.get('allow'));
    await expectError(odd, 405, 'MethodNotAllowed');
  });

  it('406 for an Accept it cannot produce', async () => {
    await expectError(await srv.get('many', { Accept: 'application/atom+xml' }), 406, 'NotAcceptable');
    await expectError(await srv.get('many?$format=xml'), 406, 'NotAcceptable');
    await expectError(await srv.get('many', { Accept: 'application/json;odata.metadata=verbose' }), 406, 'NotAcceptable');
    await expectError(await srv.get('$metadata', { Accept: 'text/html' }), 406, 'NotAcceptable');
  });

  it('501 for a well-formed query option it does not support', async () => {
    await expectError(await srv.get('many?$expand=x'), 501, 'NotImplemented', /\$expand/);
    await expectError(await srv.get('many?$apply=groupby((n))'), 501, 'NotImplemented', /\$apply/);
    await expectError(await srv.get('many?$compute=n add 1 as m'), 501, 'NotImplemented', /\$compute/);
  });
});
