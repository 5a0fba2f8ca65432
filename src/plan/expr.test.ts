/**
 * Parser and planner errors (status, code, message) and the shapes of the parsed trees and select lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ODataError } from '../errors/odata-error.js';
import { parseFilter, parseOrderBy, parseSearch, parseSelect } from '../odata/filter-parser.js';
import { planFilter, planOrderBy, planSearch, planSelect } from './expr.js';
import { entitySet } from './test-fixture.js';

const set = entitySet();

function fails(f: () => unknown, status: number, code: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ODataError, String(e));
    assert.equal(e.status, status, e.message);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const ERRORS: readonly [string, number, string, RegExp][] = [
  ['', 400, 'SyntaxError', /position 0/],
  [' Age eq 1', 400, 'SyntaxError', /position 0/],
  ['Age eq', 400, 'SyntaxError', /position 3/],
  ['Age eq 1 )', 400, 'SyntaxError', /position 8/],
  ['Age eqq 1', 400, 'SyntaxError', /position 3/],
  ["Name eq 'abc", 400, 'SyntaxError', /position 8/],
  ['(Age eq 1', 400, 'SyntaxError', /position 9/],
  ["Name eq ('a','b')", 400, 'SyntaxError', /only after "in"/],
  ['Name in (Name,Code)', 400, 'SyntaxError', /only after "in"/],
  ['substring(Name)', 400, 'SyntaxError', /substring takes 2 or 3/],
  ['foo(Name)', 400, 'UnknownFunction', /foo/],
  ['any(d:true)', 400, 'SyntaxError', /collection path/],
  ['Products/all()', 400, 'SyntaxError', /lambda/],
  ['Model.Available', 400, 'SyntaxError', /position 15/],
  ["Name eq 'a' and Missing eq 1", 400, 'UnknownProperty', /Missing/],
  ['Address/Street eq 1', 400, 'UnknownProperty', /Address\/Street/],
  ['Name eq 5', 400, 'TypeMismatch', /Name is Edm\.String/],
  ['year(Name) eq 2020', 400, 'TypeMismatch', /Name is Edm\.String/],
  ["contains(Created,'x')", 400, 'TypeMismatch', /Created is Edm\.DateTimeOffset/],
  ["Id eq 'not-a-guid'", 400, 'TypeMismatch', /Id is Edm\.Guid/],
  ['Age add Name eq 1', 400, 'TypeMismatch', /add/],
  ['Age', 400, 'TypeMismatch', /Boolean/],
  ['not Age', 400, 'TypeMismatch', /not/],
  ['Age in (1,2.5)', 400, 'TypeMismatch', /in/],
  ['Products/any(d:d/y eq 1)', 501, 'NotImplemented', /any/],
  ['Products/all(d:d/y eq 1)', 501, 'NotImplemented', /all/],
  ['$it/Age eq 1', 501, 'NotImplemented', /\$it/],
  ["style has Sales.Pattern'Yellow'", 501, 'NotImplemented', /has/],
  ['hassubset(Names,[1])', 501, 'NotImplemented', /hassubset/],
  ['geo.distance(a,b) lt 1', 501, 'NotImplemented', /geo\.distance/],
  ['cast(Model.Customer)', 501, 'NotImplemented', /single argument/],
  ['isof(Age,Model.Customer)', 501, 'NotImplemented', /Model\.Customer/],
];

for (const [filter, status, code, message] of ERRORS) {
  test(`$filter=${filter} -> ${status} ${code}`, () => {
    fails(() => planFilter(parseFilter(filter), set), status, code, message);
  });
}

test('precedence: mul over add over comparison over and over or; not and negate are unary', () => {
  const e = parseFilter('A or B and C eq D add E mul F');
  assert.equal(e.kind === 'binary' && e.op, 'or');
  const r = e.kind === 'binary' ? e.right : e;
  assert.equal(r.kind === 'binary' && r.op, 'and');
  const n = parseFilter('not A eq B');
  assert.equal(n.kind === 'binary' && n.op, 'eq');
  assert.equal(n.kind === 'binary' && n.left.kind, 'not');
  const neg = parseFilter('-1');
  assert.equal(neg.kind, 'literal');
});

test('operators are case-insensitive, $search operators are not', () => {
  assert.equal(parseFilter("Name EQ 'Milk' AND Age LT 2").kind, 'binary');
  assert.deepEqual(parseSearch('a and b'), {
    kind: 'and',
    left: { kind: 'and', left: { kind: 'term', text: 'a' }, right: { kind: 'term', text: 'and' } },
    right: { kind: 'term', text: 'b' },
  });
});

test('$search grammar: NOT > AND > OR, implicit AND, phrases with escapes', () => {
  assert.deepEqual(parseSearch('a OR NOT b c'), {
    kind: 'or',
    left: { kind: 'term', text: 'a' },
    right: { kind: 'and', left: { kind: 'not', operand: { kind: 'term', text: 'b' } }, right: { kind: 'term', text: 'c' } },
  });
  assert.deepEqual(parseSearch('"say \\"hi\\" \\\\"'), { kind: 'phrase', text: 'say "hi" \\' });
  fails(() => parseSearch('"blue'), 400, 'SyntaxError', /position 0/);
  fails(() => parseSearch('"blue"green'), 400, 'SyntaxError', /position 6/);
  fails(() => parseSearch('(a'), 400, 'SyntaxError', /\)/);
  fails(() => parseSearch(''), 400, 'SyntaxError', /empty/);
});

test('$search on a set without searchable columns is a 400', () => {
  fails(() => planSearch(parseSearch('x'), entitySet([])), 400, 'BadRequest', /no searchable columns/);
});

test('$select: star, duplicates, entity order, unknown and unsupported items', () => {
  assert.deepEqual(planSelect(parseSelect('Code,Name,Code'), set).map((c) => c.name), ['Name', 'Code']);
  assert.equal(planSelect(parseSelect('*,Name'), set).length, set.columns.length);
  fails(() => planSelect(parseSelect('Nope'), set), 400, 'UnknownProperty', /Nope/);
  fails(() => planSelect(parseSelect('Name/x'), set), 400, 'UnknownProperty', /Name\/x/);
  fails(() => parseSelect('Name,'), 400, 'SyntaxError', /position 5/);
  fails(() => parseSelect('Model.*'), 501, 'NotImplemented', /Qualified/);
  fails(() => parseSelect('Address($select=Street)'), 501, 'NotImplemented', /Nested/);
});

test('$orderby: directions, expressions, errors', () => {
  const items = planOrderBy(parseOrderBy('Name desc,Age ASC,length(Code)'), set);
  assert.deepEqual(items.map((i) => [i.desc, i.type, i.nullable]), [
    [true, 'Edm.String', true],
    [false, 'Edm.Int32', true],
    [false, 'Edm.Int32', false],
  ]);
  fails(() => planOrderBy(parseOrderBy('Nope'), set), 400, 'UnknownProperty', /Nope/);
  fails(() => parseOrderBy('Name up'), 400, 'SyntaxError', /position 4/);
  fails(() => parseOrderBy('Name,'), 400, 'SyntaxError', /position 5/);
});

test('aliases: values are expressions; a missing alias is null', () => {
  const t = planFilter(parseFilter('Age gt @n'), set, new Map([['@n', '5']]));
  assert.equal(t.kind === 'compare' && t.right.kind === 'const' && t.right.value, '5');
  const n = planFilter(parseFilter('Age eq @none'), set);
  assert.equal(n.kind === 'compare' && n.right.kind, 'null');
  fails(() => planFilter(parseFilter('Age eq @n'), set, new Map([['@n', "'x'"]])), 400, 'TypeMismatch', /Age/);
});
