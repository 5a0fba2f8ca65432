/**
 * Issue 3, property test through HTTP: random strings, OData-token soup and mutations of valid
 * expressions thrown at $filter, $orderby, $select, $search, parameter aliases and key predicates of the
 * running server (against the null-heavy oracle fixture, so the SQL really runs). Every answer must be a
 * 2xx, or a 4xx/501 with an OData error body; never a 5xx, never SQL text or a stack trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FIXTURE = readFileSync(new URL('./fixtures/oracle.sql', import.meta.url), 'utf8');
const RUNS = Number(process.env['QUERY_FUZZ_RUNS'] ?? 600);

let db: TestDb;
let srv: TestServer;

before(async () => {
  db = await createTestDb(FIXTURE);
  srv = await startTestServer(db.url, { expose: ['public.t'], pageSize: 20, log: { level: 'warn' } });
});
after(async () => {
  await srv?.stop();
  await db?.drop();
});

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD, as UTF-8 must). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const LEAK = /(?<![$\w])[Ss][Ee][Ll][Ee][Cc][Tt] |[Ff][Rr][Oo][Mm] "|syntax error at or near|\bat [^\n]*\.[tj]s:\d+|node_modules|pg-pool|\bECONN[A-Z]+\b/;

/** status -> how many answers, to show that the runs reach both the happy path and the error paths */
const seen = new Map<number, number>();

async function check(path: string): Promise<void> {
  const res = await srv.get(path);
  const text = await res.text();
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const where = `${res.status} ${decodeURIComponentSafe(path).slice(0, 300)} -> ${text.slice(0, 300)}`;
  assert.ok(res.status < 500 || res.status === 501, where);
  assert.doesNotMatch(text, LEAK, where);
  if (res.status >= 400) {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(typeof body.error?.code, 'string', where);
    assert.equal(typeof body.error?.message, 'string', where);
  } else if (res.status === 200 && !path.includes('/$count')) {
    const body = JSON.parse(text) as { value?: unknown };
    if (!/^t\(/.test(path)) assert.ok(Array.isArray(body.value), where);
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const VALID_FILTERS = [
  "s eq 'alpha'", 'i gt 10 and f', 'not (i gt 10 or s eq null)', "contains(s,'lph') eq true", 'i add 5 gt 10',
  "substring(s,1,2) eq 'lp'", 'year(dt) eq 2021', "ts gt 2021-06-01T00:00:00Z", "du gt duration'PT12H'",
  "bin eq binary'AAI='", 'round(n) eq 2', "cast(i,Edm.String) eq '7'", "s in ('alpha', null)", 'd lt 1e3',
  'u eq c4ca4238-a0b9-2382-0dcc-509a6f75849b', 'tm lt 06:00', "matchesPattern(s,'^a')", 'fractionalseconds(ts) gt 0',
  'n divby 2 gt 1.5', 'k mod 3 eq 1', '-i lt 5', "concat(s,v) ne null", 'length(s) eq 6', 'indexof(s,v) ge 0',
];
const VALID_ORDERS = ['i', 'i desc,s', 'f,dt desc', 'length(s) desc', 'tolower(s),k', 'm,u desc', 'n mul 2 desc', 'year(dt),bin'];
const VALID_SELECTS = ['id,s', '*', 'i,f,dt,ts,tm,u,du,bin', 'm,c,v'];
const VALID_SEARCHES = ['alpha', '"mixed Case"', 'alpha OR Beta', 'NOT zz', '(alpha OR X1) happy'];

const TOKENS = [
  ' ', ' ', ' ', '(', ')', ',', "'", "''", "'a'", '"', '-', '/', '@a', '@b', '$it', '$root', 's', 'i', 'k', 'n', 'd', 'f', 'dt',
  'ts', 'tm', 'u', 'du', 'bin', 'm', 'c', 'v', 'id', 'nosuch', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'not', 'in', 'has',
  'add', 'sub', 'mul', 'div', 'divby', 'mod', 'contains(', 'startswith(', 'substring(', 'indexof(', 'concat(', 'matchesPattern(',
  'round(', 'floor(', 'year(', 'hour(', 'date(', 'time(', 'cast(', 'isof(', 'Edm.String', 'Edm.Int32', 'Edm.Duration',
  'Edm.DateTimeOffset', 'now()', 'maxdatetime()', 'any(', 'all(', 'x:', '0', '1', '-1', '2.5', '1e3', '1e400', 'NaN', '-INF',
  '99999999999999999999999', 'null', 'true', 'false', '2020-01-01', '2020-02-30', '2021-06-01T00:00:00Z', '24:00', '12:30:15.1234567',
  "duration'P1D'", "duration'-PT1.5S'", "duration'P'", "binary'AA=='", "X'0f'", 'c4ca4238-a0b9-2382-0dcc-509a6f75849b', 'AND', 'OR',
  'NOT', '*', '[', ']', '{', '}', '%', '\\', ';', '&', '#', '+', '?', '=', '\t', '\u0000', '\u00e9', '\ud83d\ude00', '\ud800',
  'asc', 'desc', '$filter', 'geo.distance(',
];
const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 25 }).map((a) => a.join(''));

/** A valid expression with random edits: deletions, insertions of tokens or chars, duplications, truncation. */
function mutated(valid: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.tuple(fc.constant('del' as const), fc.nat(), fc.integer({ min: 1, max: 4 }), fc.constant('')),
    fc.tuple(fc.constant('ins' as const), fc.nat(), fc.constant(0), fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 }))),
    fc.tuple(fc.constant('dup' as const), fc.nat(), fc.integer({ min: 1, max: 8 }), fc.constant('')),
    fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0), fc.constant('')),
  );
  return fc.tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
    let out = s;
    for (const [kind, at, len, text] of edits) {
      const p = out.length === 0 ? 0 : at % (out.length + 1);
      if (kind === 'del') out = out.slice(0, p) + out.slice(p + len);
      else if (kind === 'ins') out = out.slice(0, p) + text + out.slice(p);
      else if (kind === 'dup') out = out.slice(0, p) + out.slice(p, p + len) + out.slice(p);
      else out = out.slice(0, p);
    }
    return out;
  });
}

function junk(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 3, arbitrary: tokenSoup },
    { weight: 4, arbitrary: mutated(valid) },
  );
}

/**
 * Well-typed random expressions over the fixture's columns: they pass the parser and the planner, so
 * they reach PostgreSQL and exercise the SQL for unusual (but legal) combinations of types and functions.
 */
const typed = fc.letrec<{ num: string; int: string; str: string; date: string; dto: string; tod: string; dur: string; bool: string }>((tie) => {
  const call = (name: string, ...args: fc.Arbitrary<string>[]): fc.Arbitrary<string> => fc.tuple(...args).map((a) => `${name}(${a.join(',')})`);
  const bin = (l: fc.Arbitrary<string>, ops: string[], r: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(l, fc.constantFrom(...ops), r).map(([a, o, b]) => `(${a} ${o} ${b})`);
  const leaf = <T extends string>(...xs: T[]): fc.Arbitrary<string> => fc.constantFrom(...xs);
  return {
    int: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('i', 'k', 'b', '0', '1', '-1', '7', '2147483647', '-2147483648', '9223372036854775807', '3000000000'),
      bin(tie('int'), ['add', 'sub', 'mul', 'div', 'mod'], tie('int')),
      call('length', tie('str')),
      call('indexof', tie('str'), tie('str')),
      call('year', fc.oneof(tie('date'), tie('dto'))),
      call('day', fc.oneof(tie('date'), tie('dto'))),
      call('hour', fc.oneof(tie('dto'), tie('tod'))),
      call('second', fc.oneof(tie('dto'), tie('tod'))),
      call('totaloffsetminutes', tie('dto')),
      tie('int').map((x) => `cast(${x},Edm.Int64)`),
      tie('int').map((x) => `-${x}`),
    ),
    num: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('n', 'd', '1.5', '-0.25', '1e3', '1e-300', '1e308', 'INF', '-INF', 'NaN', '0.0'),
      tie('int'),
      bin(tie('num'), ['add', 'sub', 'mul', 'div', 'divby', 'mod'], tie('num')),
      call('round', tie('num')),
      call('floor', tie('num')),
      call('ceiling', tie('num')),
      call('fractionalseconds', fc.oneof(tie('dto'), tie('tod'))),
      tie('num').map((x) => `cast(${x},Edm.Double)`),
      tie('num').map((x) => `cast(${x},Edm.Decimal)`),
    ),
    str: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('s', 'v', 'c', 'm', "''", "'a'", "'O''Brien'", "'%_\\'", "'\u00e9\ud83d\ude00'"),
      call('tolower', tie('str')),
      call('trim', tie('str')),
      call('concat', tie('str'), tie('str')),
      call('substring', tie('str'), tie('int')),
      call('substring', tie('str'), tie('int'), tie('int')),
      fc.oneof(tie('int'), tie('num'), tie('date'), tie('dto'), tie('tod'), tie('dur'), leaf('u', 'bin', 'f')).map((x) => `cast(${x},Edm.String)`),
    ),
    date: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('dt', '2020-01-01', '0001-01-01', '9999-12-31', '2020-02-29'),
      call('date', tie('dto')),
      bin(tie('date'), ['add', 'sub'], tie('dur')),
    ),
    dto: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('ts', '2021-06-01T00:00:00Z', '2021-06-01T00:00:00.1234567+14:00', 'now()', 'mindatetime()', 'maxdatetime()'),
      bin(tie('dto'), ['add', 'sub'], tie('dur')),
      tie('date').map((x) => `cast(${x},Edm.DateTimeOffset)`),
    ),
    tod: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf('tm', '00:00', '23:59:59.999999', '12:30'), call('time', tie('dto'))),
    dur: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('du', "duration'P1D'", "duration'-PT1.5S'", "duration'P999999999D'", "'PT5H'"),
      bin(tie('dur'), ['add', 'sub'], tie('dur')),
      bin(tie('dto'), ['sub'], tie('dto')),
      bin(tie('date'), ['sub'], tie('date')),
      tie('dur').map((x) => `-${x}`),
    ),
    bool: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf('f', 'true', 'false', 'null', 'isof(s,Edm.String)'),
      ...(['num', 'str', 'date', 'dto', 'tod', 'dur'] as const).map((k) =>
        bin(tie(k), ['eq', 'ne', 'gt', 'ge', 'lt', 'le'], fc.oneof(tie(k), fc.constant('null'))),
      ),
      bin(tie('bool'), ['and', 'or', 'eq', 'ne'], tie('bool')),
      tie('bool').map((x) => `not ${x}`),
      call('contains', tie('str'), tie('str')),
      call('startswith', tie('str'), tie('str')),
      call('matchesPattern', tie('str'), fc.constantFrom("'^a'", "'[0-9]+$'", "'('", "'\\\\d'")),
      fc.tuple(tie('int'), fc.array(fc.constantFrom('1', '-1', 'null', '7'), { maxLength: 4 })).map(([x, l]) => `${x} in (${l.join(',')})`),
      fc.tuple(tie('str'), fc.array(fc.constantFrom("'a'", 'null', "'alpha'"), { maxLength: 3 })).map(([x, l]) => `${x} in (${l.join(',')})`),
      fc.constantFrom('u eq c4ca4238-a0b9-2382-0dcc-509a6f75849b', "bin eq binary'AAI='", "u in (c4ca4238-a0b9-2382-0dcc-509a6f75849b,null)"),
    ),
  };
});

async function run(arb: fc.Arbitrary<string>, path: (s: string) => string): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (s) => {
      await check(path(s));
    }),
    { numRuns: RUNS },
  );
}

describe('fuzzing the query options through HTTP', () => {
  it('$filter', async () => {
    await run(junk(VALID_FILTERS), (s) => `t?$filter=${pct(s)}&$select=id`);
  });
  it('$filter with parameter aliases and $count', async () => {
    await fc.assert(
      fc.asyncProperty(junk(VALID_FILTERS), junk(["'alpha'", '5', "('a','b')", 'null', '2020-01-01', '@b']), async (f, a) => {
        await check(`t?$filter=${pct(`${f} or s eq @a`)}&@a=${pct(a)}&@b=${pct(a)}&$count=true&$top=3`);
        await check(`t/$count?$filter=${pct(f)}&@a=${pct(a)}`);
      }),
      { numRuns: Math.floor(RUNS / 2) },
    );
  });
  it('$orderby (and the next page of it)', async () => {
    await fc.assert(
      fc.asyncProperty(junk(VALID_ORDERS), async (s) => {
        const path = `t?$orderby=${pct(s)}&$select=id`;
        await check(path);
        const res = await srv.get(path);
        if (res.status === 200) {
          const next = ((await res.json()) as { '@odata.nextLink'?: string })['@odata.nextLink'];
          if (next) await check(next);
        }
      }),
      { numRuns: RUNS },
    );
  });
  it('well-typed random $filter and $orderby expressions reach PostgreSQL without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(typed.bool, fc.oneof(typed.num, typed.str, typed.date, typed.dto, typed.tod, typed.dur), async (f, o) => {
        await check(`t?$filter=${pct(f)}&$select=id&$top=30`);
        await check(`t?$orderby=${pct(`${o} desc`)}&$select=id&$top=30&$skip=5`);
      }),
      { numRuns: RUNS },
    );
  });
  it('$select', async () => {
    await run(junk(VALID_SELECTS), (s) => `t?$select=${pct(s)}&$top=2`);
  });
  it('$search', async () => {
    await run(junk(VALID_SEARCHES), (s) => `t?$search=${pct(s)}&$select=id&$count=true`);
  });
  it('key predicates Set(<junk>)', async () => {
    await run(junk(['1', '200', 'id=1', "'1'", '-1', '99999999999999999999', 'id=1,k=2']), (s) => `t(${pct(s)})`);
    await run(junk(['1', 'id=1']), (s) => `t(${pct(s)})/s`);
  });
  it('raw, unencoded and badly encoded query strings', async () => {
    const raw = fc.array(fc.constantFrom('$filter=', '$orderby=', '$top=', '$skip=', '$skiptoken=', '$select=', '$search=', '@a=', '%', '%ZZ', '%E0%A4%A', '%00', '&', '=', 'i', '%20eq%201', "'", '(', ')', '$count=true', 'x'), { maxLength: 12 }).map((a) => a.join(''));
    await run(raw, (s) => `t?${s}`);
  });
  it('the runs reached both successful queries and errors', () => {
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    assert.ok(total >= 2000, `${total} requests`);
    assert.ok((seen.get(200) ?? 0) >= 200, JSON.stringify([...seen]));
    assert.ok((seen.get(400) ?? 0) >= 500, JSON.stringify([...seen]));
    console.log('fuzz statuses', JSON.stringify([...seen]));
  });
});
