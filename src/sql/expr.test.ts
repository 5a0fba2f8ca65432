/**
 * parse -> plan -> sql: the exact SQL text and parameters for every operator, function and literal type,
 * and the null semantics (plain operators where both sides are known non-null, IS [NOT] DISTINCT FROM /
 * coalesce where OData's two-valued comparison differs from SQL's three-valued one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, parseOrderBy, parseSearch } from '../odata/filter-parser.js';
import { planFilter, planOrderBy, planSearch } from '../plan/expr.js';
import { entitySet } from '../plan/test-fixture.js';
import { compileFilter, compileOrderBy, compileOrderValue, compileSearch, escapeLike } from './expr.js';

const set = entitySet();
const aliases = new Map([['@a', "'x'"], ['@l', "('a','b')"]]);

function sql(filter: string): [string, unknown[]] {
  const ctx = { alias: 't', params: [] as unknown[] };
  return [compileFilter(planFilter(parseFilter(filter), set, aliases), ctx), ctx.params];
}

const CASES: readonly [string, string, unknown[]][] = [
  ["Name eq 'x'", "(t.name = $1::text)", ["x"]],
  ["Name ne 'x'", "(t.name IS DISTINCT FROM $1::text)", ["x"]],
  ["Code ne 'x'", "(t.code <> $1::text)", ["x"]],
  ["not (Name eq 'x')", "(NOT coalesce(t.name = $1::text, false))", ["x"]],
  ["Name eq null", "(t.name IS NULL)", []],
  ["Name ne null", "(t.name IS NOT NULL)", []],
  ["IsDeleted", "t.isdeleted", []],
  ["IsDeleted eq true", "t.isdeleted", []],
  ["IsDeleted eq false", "((t.isdeleted) IS FALSE)", []],
  ["IsDeleted ne true", "((t.isdeleted) IS NOT TRUE)", []],
  ["not IsDeleted eq true", "(NOT t.isdeleted)", []],
  ["Active eq true", "(t.active = $1::bool)", [true]],
  ["contains(Name,'a%_\\') eq true", "(t.name LIKE $1::text)", ["%a\\%\\_\\\\%"]],
  ["not contains(Name,'a')", "(NOT (t.name LIKE $1::text))", ["%a%"]],
  ["startswith(Name,'ab')", "(t.name LIKE $1::text)", ["ab%"]],
  ["startswith(Name,Code)", "(left(t.name, char_length(t.code)) = t.code)", []],
  ["endswith(Name,'z')", "(t.name LIKE $1::text)", ["%z"]],
  ["endswith(Name,Code)", "(right(t.name, char_length(t.code)) = t.code)", []],
  ["contains(Name,Code)", "(strpos(t.name, t.code) > 0)", []],
  ["Age gt 5", "(t.age > $1::int4)", ["5"]],
  ["Age ge 5", "(t.age >= $1::int4)", ["5"]],
  ["Age lt 5", "(t.age < $1::int4)", ["5"]],
  ["Age le 5", "(t.age <= $1::int4)", ["5"]],
  ["not (Age gt 5)", "(NOT coalesce(t.age > $1::int4, false))", ["5"]],
  ["Price eq 5", "(t.price = $1::numeric)", ["5"]],
  ["Price add 2.45 eq 5.00", "((t.price + $1::numeric) = $2::numeric)", ["2.45","5.00"]],
  ["Age sub 1 eq 2", "((t.age - $1::int4) = $2::int4)", ["1","2"]],
  ["Age mul 2 eq 4", "((t.age * $1::int4) = $2::int4)", ["2","4"]],
  ["Age div 2 eq 1", "((t.age / $1::int4) = $2::int4)", ["2","1"]],
  ["Age divby 2 eq 2.5", "((CASE WHEN $1::int4 = 0 THEN (CASE WHEN t.age > 0 THEN 'Infinity' WHEN t.age < 0 THEN '-Infinity' WHEN t.age = 0 THEN 'NaN' END)::numeric ELSE (t.age)::numeric / $1::int4 END) = $2::numeric)", ["2","2.5"]],
  ["Age mod 2 eq 0", "((t.age % $1::int4) = $2::int4)", ["2","0"]],
  ["Score mod 2 eq 0", "((mod((t.score)::numeric, ($1::float8)::numeric))::float8 = $2::float8)", ["2","0"]],
  ["Score eq 1.5", "(t.score = $1::float8)", ["1.5"]],
  ["Score eq 1e10", "(t.score = $1::float8)", ["1e10"]],
  ["Price eq 1e10", "(t.price = $1::numeric)", ["1e10"]],
  ["Rank eq 100000", "(t.rank = $1::int4)", ["100000"]],
  ["Big eq 5", "(t.big = $1::int8)", ["5"]],
  ["Age eq 9999999999", "(t.age = $1::int8)", ["9999999999"]],
  ["Id eq 01234567-89ab-cdef-0123-456789abcdef", "(t.id = $1::uuid)", ["01234567-89ab-cdef-0123-456789abcdef"]],
  ["Id eq '01234567-89AB-cdef-0123-456789abcdef'", "(t.id = $1::uuid)", ["01234567-89ab-cdef-0123-456789abcdef"]],
  ["year(Created) eq 2020", "(extract(year from t.created)::int4 = $1::int4)", ["2020"]],
  ["month(Born) eq 2", "(extract(month from t.born)::int4 = $1::int4)", ["2"]],
  ["day(Created) eq 3", "(extract(day from t.created)::int4 = $1::int4)", ["3"]],
  ["hour(Opens) eq 4", "(extract(hour from t.opens)::int4 = $1::int4)", ["4"]],
  ["minute(Created) eq 5", "(extract(minute from t.created)::int4 = $1::int4)", ["5"]],
  ["second(Created) eq 6", "(floor(extract(second from t.created))::int4 = $1::int4)", ["6"]],
  ["Created gt 2020-01-01", "(t.created > $1::timestamptz)", ["2020-01-01T00:00:00Z"]],
  ["Born lt 2020-01-01T00:00:00Z", "(t.born < $1::timestamptz)", ["2020-01-01T00:00:00Z"]],
  ["Born eq 2020-02-29", "(t.born = $1::date)", ["2020-02-29"]],
  ["Opens lt 12:30:00", "(t.opens < $1::time)", ["12:30:00"]],
  ["Created add duration'P1D' gt now()", "((t.created + $1::interval) > now())", ["P1D"]],
  ["Created sub duration'PT1H' lt Created", "((t.created - $1::interval) < t.created)", ["PT1H"]],
  ["Created sub Created eq duration'PT0S'", "((t.created - t.created) = $1::interval)", ["PT0S"]],
  ["Span eq 'P1D'", "(t.span = $1::interval)", ["P1D"]],
  // PostgreSQL rejects '-P1DT2H'; the sign moves into every field
  ["Span eq duration'-P1DT2H'", "(t.span = $1::interval)", ["P-1DT-2H"]],
  ["Span eq duration'-PT1.5S'", "(t.span = $1::interval)", ["PT-1.5S"]],
  ["Span in (duration'-P1D',duration'PT1H')", "(t.span = ANY($1::interval[]))", [["P-1D", "PT1H"]]],
  ["Photo eq binary'AAE='", "(t.photo = decode($1::text, 'base64'))", ["AAE="]],
  ["Name in ('a','b',null)", "(t.name = ANY($1::text[]) OR t.name IS NULL)", [["a","b"]]],
  ["Name in ('a')", "(t.name = ANY($1::text[]))", [["a"]]],
  ["Name in ()", "false", []],
  // no parameter of the operand may be left behind unused (PostgreSQL cannot type it)
  ["concat(Name,'x') in ()", "false", []],
  ["3000000000 in ()", "false", []],
  ["Code in ('a','b')", "(t.code = ANY($1::text[]))", [["a","b"]]],
  ["Age in (1,2)", "(t.age = ANY($1::int4[]))", [["1","2"]]],
  ["not (Age in (1,2))", "(NOT coalesce(t.age = ANY($1::int4[]), false))", [["1","2"]]],
  ["Name in @l", "(t.name = ANY($1::text[]))", [["a","b"]]],
  ["Name eq @a", "(t.name = $1::text)", ["x"]],
  ["Name eq @missing", "(t.name IS NULL)", []],
  ["Mood eq 'happy'", "(t.mood::text = $1::text)", ["happy"]],
  ["round(Score) eq 2", "(round((t.score)::numeric)::float8 = $1::float8)", ["2"]],
  ["round(Price) eq 2", "(round(t.price) = $1::numeric)", ["2"]],
  ["floor(Score) eq 1", "(floor((t.score)::numeric)::float8 = $1::float8)", ["1"]],
  ["ceiling(Price) eq 1", "(ceil(t.price) = $1::numeric)", ["1"]],
  ["floor(Age) eq 1", "(t.age = $1::int4)", ["1"]],
  ["substring(Name,1,2) eq 'ab'", "(substr(t.name, $1::int4 + 1, $2::int4) = $3::text)", ["1","2","ab"]],
  ["substring(Name,1) eq 'ab'", "(substr(t.name, $1::int4 + 1) = $2::text)", ["1","ab"]],
  ["substring(Name,-2) eq 'ab'", "(substr(t.name, (CASE WHEN $1::int4 < 0 THEN greatest(char_length(t.name) + $1::int4, 0) ELSE $1::int4 END) + 1) = $2::text)", ["-2","ab"]],
  // substr() has no int8 overloads: Int64 arguments are clamped to int4
  ["substring(Name,Big) eq 'ab'", "(substr(t.name, (CASE WHEN greatest(least(t.big, 2147483646), -2147483646)::int4 < 0 THEN greatest(char_length(t.name) + greatest(least(t.big, 2147483646), -2147483646)::int4, 0) ELSE greatest(least(t.big, 2147483646), -2147483646)::int4 END) + 1) = $1::text)", ["ab"]],
  ["substring(Name,0,3000000000) eq 'ab'", "(substr(t.name, $1::int4 + 1, greatest(least($2::int8, 2147483646), -2147483646)::int4) = $3::text)", ["0","3000000000","ab"]],
  ["indexof(Name,'a') eq 0", "((strpos(t.name, $1::text) - 1) = $2::int4)", ["a","0"]],
  ["length(Name) eq 3", "(char_length(t.name) = $1::int4)", ["3"]],
  ["tolower(Name) eq 'a'", "(lower(t.name) = $1::text)", ["a"]],
  ["toupper(Name) eq 'A'", "(upper(t.name) = $1::text)", ["A"]],
  ["trim(Name) eq 'a'", "(btrim(t.name, U&' \\0009\\000A\\000B\\000C\\000D\\0085\\00A0\\1680\\2000\\2001\\2002\\2003\\2004\\2005\\2006\\2007\\2008\\2009\\200A\\2028\\2029\\202F\\205F\\3000') = $1::text)", ["a"]],
  ["concat(Name,Code) eq 'ab'", "((t.name || t.code) = $1::text)", ["ab"]],
  ["matchesPattern(Name,'^A.*e$')", "(t.name ~ $1::text)", ["^A.*e$"]],
  ["fractionalseconds(Created) gt 0", "((extract(second from t.created) - floor(extract(second from t.created))) > $1::numeric)", ["0"]],
  ["date(Created) eq 2020-01-01", "((t.created)::date = $1::date)", ["2020-01-01"]],
  ["time(Created) lt 12:00:00", "((t.created)::time < $1::time)", ["12:00:00"]],
  ["totaloffsetminutes(Created) eq 0", "((CASE WHEN t.created IS NULL THEN NULL ELSE 0 END)::int4 = $1::int4)", ["0"]],
  ["Created lt maxdatetime()", "(t.created < $1::timestamptz)", ["9999-12-31T23:59:59.999999Z"]],
  ["Created gt mindatetime()", "(t.created > $1::timestamptz)", ["0001-01-01T00:00:00Z"]],
  ["cast(Age,Edm.String) eq '5'", "((t.age)::text = $1::text)", ["5"]],
  ["cast(Name,Edm.Int32) eq 5", "((CASE WHEN t.name ~ '^\\s*[+-]?[0-9]+\\s*$' THEN (CASE WHEN (btrim(t.name))::numeric BETWEEN -2147483648 AND 2147483647 THEN (btrim(t.name))::int4 END) END) = $1::int4)", ["5"]],
  ["isof(Age,Edm.Int32)", "true", []],
  ["isof(Age,Edm.String)", "((t.age)::text IS NOT NULL)", []],
  ["Name eq Code", "(t.name = t.code)", []],
  ["Name eq Name", "(t.name IS NOT DISTINCT FROM t.name)", []],
  ["null eq null", "true", []],
  ["Age gt null", "false", []],
  ["-Age eq -5", "((- t.age) = $1::int4)", ["-5"]],
  ["-(Age) eq 5", "((- t.age) = $1::int4)", ["5"]],
  ["Born sub Born eq duration'P1D'", "(((t.born - t.born) * interval '1 day') = $1::interval)", ["P1D"]],
  ["WeirdName eq 'x'", "(t.\"Weird\"\"Name\" = $1::text)", ["x"]],
  ["Age eq 1 or Name eq 'x' and Code eq 'y'", "((t.age = $1::int4) OR ((t.name = $2::text) AND (t.code = $3::text)))", ["1","x","y"]],
  ["(Age eq 1 or Name eq 'x') and Code eq 'y'", "(((t.age = $1::int4) OR (t.name = $2::text)) AND (t.code = $3::text))", ["1","x","y"]],
  ["'a' eq Name", "($1::text = t.name)", ["a"]],
  ["Score eq INF", "(t.score = $1::float8)", ["Infinity"]],
  ["Score eq NaN", "(t.score = $1::float8)", ["NaN"]],
  ["true", "true", []],
  ["Active", "t.active", []],
  ["not Active", "(NOT t.active)", []],
  ["Age add 1 mul 2 eq 7", "((t.age + ($1::int4 * $2::int4)) = $3::int4)", ["1","2","7"]],
  ["contains(Name,'Acme') eq true or contains(Code,'Acme') eq true", "((t.name LIKE $1::text) OR ((t.code LIKE $2::text) = $3::bool))", ["%Acme%","%Acme%",true]],
  ["Name eq 'O''Neil'", "(t.name = $1::text)", ["O'Neil"]],
  ["Price ne 5", "(t.price IS DISTINCT FROM $1::numeric)", ["5"]],
  ["not (Price ne 5)", "(NOT (t.price IS DISTINCT FROM $1::numeric))", ["5"]],
];

for (const [filter, text, params] of CASES) {
  test(`$filter=${filter}`, () => {
    assert.deepEqual(sql(filter), [text, params]);
  });
}

test('params continue the numbering of the context', () => {
  const ctx = { alias: 'x', params: ['before'] as unknown[] };
  assert.equal(compileFilter(planFilter(parseFilter("Name eq 'a'"), set), ctx), '(x.name = $2::text)');
  assert.deepEqual(ctx.params, ['before', 'a']);
});

test('escapeLike escapes %, _ and backslash', () => {
  assert.equal(escapeLike('a%b_c\\d'), 'a\\%b\\_c\\\\d');
});

test('orderby: NULLS FIRST/LAST only for nullable values', () => {
  const ctx = { alias: 't', params: [] as unknown[] };
  const items = planOrderBy(parseOrderBy('Name,Code desc,Rank,Age desc,tolower(Code) asc,Age gt 5'), set);
  assert.equal(
    compileOrderBy(items, ctx),
    't.name ASC NULLS FIRST, t.code DESC, t.rank, t.age DESC NULLS LAST, lower(t.code), coalesce(t.age > $1::int4, false)',
  );
  assert.deepEqual(ctx.params, ['5']);
});

test('orderby value for keyset paging', () => {
  const [item] = planOrderBy(parseOrderBy('Created desc'), set);
  const ctx = { alias: 't', params: [] as unknown[] };
  assert.deepEqual(compileOrderValue(item!, ctx), { sql: 't.created', nullable: true, cast: 'timestamptz', type: 'Edm.DateTimeOffset' });
  assert.equal(item!.desc, true);
});

test('search: any searchable column contains the term, case-sensitively', () => {
  const ctx = { alias: 't', params: [] as unknown[] };
  const s = planSearch(parseSearch('blue NOT "gr%en" OR red'), set);
  assert.equal(
    compileSearch(s, ctx),
    '(((t.name LIKE $1::text OR t.code LIKE $1::text) AND (NOT coalesce(t.name LIKE $2::text OR t.code LIKE $2::text, false))) OR (t.name LIKE $3::text OR t.code LIKE $3::text))',
  );
  assert.deepEqual(ctx.params, ['%blue%', '%gr\\%en%', '%red%']);
});

test('search: a single NOT NULL column needs no coalesce', () => {
  const ctx = { alias: 't', params: [] as unknown[] };
  assert.equal(compileSearch(planSearch(parseSearch('NOT x'), entitySet(['Code'])), ctx), '(NOT (t.code LIKE $1::text))');
});
