/**
 * Issue 3, errors of the query language through HTTP against the demo schema: each case asserts the
 * status, the OData error code and what the message must name (property, expected type, position,
 * option), and that no SQL text or stack trace leaks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_SQL } from '../src/db/demo.js';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { withLastCharChanged } from './helpers/http.js';

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(DEMO_SQL);
  srv = await startTestServer(db.url, {
    pageSize: 50,
    expose: [
      { name: 'salesforce.account', versionColumn: 'systemmodstamp' },
      { name: 'salesforce.contact', versionColumn: 'systemmodstamp' },
      { name: 'salesforce.opportunity', versionColumn: 'systemmodstamp' },
      { name: 'public.account_summary', key: ['id'] },
    ],
  });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

const enc = (opts: Record<string, string>): string =>
  Object.entries(opts)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');

async function expectError(path: string, status: number, code: string, ...messages: RegExp[]): Promise<Record<string, any>> {
  const res = await srv.get(path);
  const text = await res.text();
  let body: Record<string, any>;
  try {
    body = JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Error(`${path}: not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
  assert.equal(res.status, status, `${path}: ${text}`);
  assert.equal(body['error']?.code, code, `${path}: ${text}`);
  for (const m of messages) assert.match(body['error'].message, m, `${path}: ${text}`);
  assert.doesNotMatch(text, /(?<![$\w])select |from "|syntax error at or near|\bat .*\.ts:\d+|node_modules/i, 'no SQL text or stack trace');
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return body;
}

const filter = (f: string, set = 'account'): string => `${set}?${enc({ $filter: f })}`;

describe('type mismatches name the property and the expected type (400)', () => {
  const CASES: readonly (readonly [string, string, RegExp[]])[] = [
    ['name eq 5', 'TypeMismatch', [/name/, /Edm\.String/]],
    ['numberofemployees eq \'many\'', 'TypeMismatch', [/numberofemployees/, /Edm\.Int32/]],
    ['year(name) eq 2020', 'TypeMismatch', [/name/, /Edm\.Date or Edm\.DateTimeOffset/]],
    ["contains(createddate,'x')", 'TypeMismatch', [/createddate/, /Edm\.String/]],
    ['isdeleted add 1 eq 2', 'TypeMismatch', [/isdeleted/]],
    ['name', 'TypeMismatch', [/name/, /Boolean/]],
    ['numberofemployees', 'TypeMismatch', [/Boolean/]],
    ['not name', 'TypeMismatch', [/name/, /Boolean/]],
    ["name eq 'a' and 5", 'TypeMismatch', [/Boolean/]],
    ['lastactivitydate eq 5', 'TypeMismatch', [/lastactivitydate/, /Edm\.Date/]],
    ["annualrevenue gt '5'", 'TypeMismatch', [/annualrevenue/, /Edm\.Decimal/]],
    ['substring(name,1.5) eq \'x\'', 'TypeMismatch', [/substring/, /integer/]],
    ['round(name) eq 1', 'TypeMismatch', [/name/, /numeric/]],
    ['hour(lastactivitydate) eq 1', 'TypeMismatch', [/lastactivitydate/, /Edm\.DateTimeOffset or Edm\.TimeOfDay/]],
    ["numberofemployees in ('a','b')", 'TypeMismatch', [/numberofemployees/]],
    ['-name eq 1', 'TypeMismatch', [/name/, /numeric/]],
    ['(numberofemployees add 1) in (2,3) and numberofemployees add 1 in (2,3)', 'TypeMismatch', [/add/, /Boolean/]],
  ];
  for (const [f, code, messages] of CASES) {
    it(f, async () => {
      await expectError(filter(f), 400, code, ...messages);
    });
  }
});

describe('unknown properties (400) in every option', () => {
  it('$filter, $select, $orderby name the property', async () => {
    await expectError(filter("nosuch eq 'x'"), 400, 'UnknownProperty', /nosuch/);
    await expectError(filter("contains(Name,'x')"), 400, 'UnknownProperty', /"Name"/);
    await expectError(`account?${enc({ $select: 'id,nosuch' })}`, 400, 'UnknownProperty', /nosuch/);
    await expectError(`account?${enc({ $orderby: 'name,nosuch desc' })}`, 400, 'UnknownProperty', /nosuch/);
    await expectError(`account?${enc({ $orderby: 'tolower(nosuch)' })}`, 400, 'UnknownProperty', /nosuch/);
    await expectError(filter("owner/name eq 'x'"), 400, 'UnknownProperty', /owner\/name/);
    // columns of the table that are not exposed are unknown too
    await expectError(filter("note eq 'x'", 'account'), 400, 'UnknownProperty', /note/);
    await expectError(`account/$count?${enc({ $filter: 'nosuch eq 1' })}`, 400, 'UnknownProperty', /nosuch/);
  });
});

describe('malformed expressions are 400 with the position', () => {
  const CASES: readonly (readonly [string, string, RegExp?])[] = [
    ["name eq 'x", '$filter', /position \d+/],
    ['name eq', '$filter', /position 4/],
    ["name eq 'x' 'y'", '$filter', /position 11/],
    ['(name eq 5', '$filter', /position 10/],
    ["name eq 'x')", '$filter', /position 11/],
    ['name eqq 5', '$filter', /position/],
    ["contains(name,'x'", '$filter', /position/],
    ["contains(name 'x')", '$filter', /position/],
    ['name eq 5 and', '$filter', /position/],
    [' name eq 5', '$filter', /position 0/],
    ['', '$filter', /empty/],
    ['id eq 2019-13-45', '$filter', /position/],
    ["frobnicate(name) eq 'x'", '$filter', /frobnicate/],
    ["substring(name) eq 'x'", '$filter', /substring/],
    ['id,,name', '$select', /position 3/],
    ['name asc desc', '$orderby', /position/],
    ['"unterminated', '$search', /position 0/],
    [')x', '$search', /position 0/],
    ['x (', '$search', /position/],
  ];
  for (const [value, option, msg] of CASES) {
    it(`${option}=${value}`, async () => {
      const res = await srv.get(`account?${option}=${encodeURIComponent(value)}`);
      const body = (await res.json()) as Record<string, any>;
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(['SyntaxError', 'UnknownFunction', 'InvalidLiteral', 'InvalidQueryOption'].includes(body['error'].code), JSON.stringify(body));
      if (msg) assert.match(body['error'].message, msg);
    });
  }
});

describe('skip tokens: forged, stale or tampered are 400', () => {
  it('a token replayed with another $filter/$orderby/$search, random text, a tampered payload', async () => {
    const first = (await (await srv.get(`account?${enc({ $filter: "industry eq 'Finance'", $orderby: 'name' })}`)).json()) as Record<string, any>;
    const token = new URL(first['@odata.nextLink']).searchParams.get('$skiptoken')!;
    assert.ok(token);
    const ok = await srv.get(`account?${enc({ $filter: "industry eq 'Finance'", $orderby: 'name', $skiptoken: token })}`);
    assert.equal(ok.status, 200);
    for (const opts of [
      { $filter: "industry eq 'Retail'", $orderby: 'name' },
      { $filter: "industry eq 'Finance'", $orderby: 'name desc' },
      { $filter: "industry eq 'Finance'" },
      { $filter: "industry eq 'Finance'", $orderby: 'name', $search: 'x' },
    ]) {
      await expectError(`account?${enc({ ...opts, $skiptoken: token })}`, 400, 'InvalidSkipToken', /skiptoken/);
    }
    await expectError(`contact?${enc({ $filter: "industry eq 'Finance'", $orderby: 'name', $skiptoken: token })}`, 400, 'UnknownProperty');
    const [payload, mac] = token.split('.') as [string, string];
    const tampered = Buffer.from(JSON.stringify([['ZZZ', '1'], 5])).toString('base64url');
    for (const bad of ['10447', 'abc', '', '.', `${tampered}.${mac}`, `${payload}.${withLastCharChanged(mac)}`, `${payload}x.${mac}`, `${payload}`]) {
      await expectError(`account?${enc({ $filter: "industry eq 'Finance'", $orderby: 'name', $skiptoken: bad })}`, 400, 'InvalidSkipToken');
    }
  });
});

describe('unsupported features are 501 naming them', () => {
  const CASES: readonly (readonly [string, RegExp])[] = [
    ['account?$expand=contacts', /\$expand/],
    ['account?$apply=groupby((industry))', /\$apply/],
    ['account?$compute=' + encodeURIComponent('numberofemployees mul 2 as double'), /\$compute/],
    ['account?$filter=' + encodeURIComponent("contacts/any(c: c/lastname eq 'x')"), /any/],
    ['account?$filter=' + encodeURIComponent("contacts/all(c: c/lastname eq 'x')"), /all/],
    ['account?$filter=' + encodeURIComponent('geo.distance(a,b) lt 5'), /geo\.distance/],
    ['account?$filter=' + encodeURIComponent('totalseconds(duration\'P1D\') gt 5'), /totalseconds/],
    ['account?$filter=' + encodeURIComponent("$it/name eq 'x'"), /\$it/],
    ['account?$select=' + encodeURIComponent('Default.Account/name'), /Qualified/],
  ];
  for (const [path, msg] of CASES) {
    it(path, async () => {
      await expectError(path, 501, 'NotImplemented', msg);
    });
  }
});

describe('runtime value errors are 400, never 500', () => {
  it('division by zero, modulo by zero, integer overflow, invalid regex; a failing cast is null', async () => {
    await expectError(filter('numberofemployees div 0 eq 1'), 400, 'BadRequest', /division by zero/);
    await expectError(filter('numberofemployees mod 0 eq 1'), 400, 'BadRequest', /division by zero/);
    await expectError(filter('annualrevenue div 0 gt 1'), 400, 'BadRequest', /division by zero/);
    await expectError(filter('numberofemployees add 2147483647 gt 0'), 400, 'BadRequest', /out of range/);
    await expectError(filter("matchesPattern(name,'(')"), 400, 'BadRequest', /regular expression/);
    await expectError(filter("substring(name,1,-1) eq 'x'"), 400, 'BadRequest', /negative substring length/);
    await expectError(filter('numberofemployees in 1'), 400, 'TypeMismatch', /right operand of "in" must be a list/);
    await expectError(filter('name in (name)'), 400, 'TypeMismatch', /right operand of "in" must be a list/);
    await expectError(filter("matchesPattern(name,'[z-a]')"), 400, 'BadRequest', /regular expression/);
    // a cast that fails is null (URL Conventions 5.1.1.10.1), not an error; casts OData does not define too
    for (const f of ['cast(name,Edm.Int32) eq 1', 'cast(numberofemployees,Edm.Date) eq 2020-01-01', 'cast(isdeleted,Edm.Int32) eq 1', 'cast(createddate,Edm.Int32) eq 1']) {
      const r = await srv.get(filter(f));
      assert.equal(r.status, 200, `${f}: ${await r.clone().text()}`);
      await r.text();
    }
  });
  it('$top=abc, $skip=-1, $count=yes, $top too large are 400', async () => {
    await expectError('account?$top=abc', 400, 'InvalidQueryOption', /\$top/);
    await expectError('account?$top=-1', 400, 'InvalidQueryOption', /\$top/);
    await expectError('account?$top=1.5', 400, 'InvalidQueryOption', /\$top/);
    await expectError('account?$skip=-1', 400, 'InvalidQueryOption', /\$skip/);
    await expectError('account?$count=yes', 400, 'InvalidQueryOption', /\$count/);
    await expectError('account?$top=99999999999999999999', 400, 'InvalidQueryOption', /\$top/);
    await expectError('account?$top=1&$top=2', 400, 'DuplicateQueryOption', /\$top/);
    await expectError('account?$top=1&top=2', 400, 'DuplicateQueryOption', /\$top/);
    await expectError('account?$frobnicate=1', 400, 'InvalidQueryOption', /\$frobnicate/);
    await expectError('account?$filter=%E0%A4%A', 400, 'BadRequest', /percent/);
  });
});
