/**
 * Property test: arbitrary strings (random and built from OData-ish tokens) given to the parsers, and
 * through the planner and compiler with a small entity set, only ever throw ODataError with a 4xx or 501
 * status: never another exception type, never a stack overflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ODataError } from '../errors/odata-error.js';
import { parseFilter, parseOrderBy, parseSearch, parseSelect } from './filter-parser.js';
import { planFilter, planOrderBy, planSearch, planSelect } from '../plan/expr.js';
import { entitySet } from '../plan/test-fixture.js';
import { compileFilter, compileOrderBy, compileSearch } from '../sql/expr.js';

const set = entitySet();

function onlyODataErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ODataError, `not an ODataError: ${String(e)}`);
    assert.ok((e.status >= 400 && e.status < 500) || e.status === 501, `status ${e.status}: ${e.message}`);
  }
}

const TOKENS = [
  ' ', ' ', '(', ')', ',', "'", "'a'", '"', '-', '/', '@a', '$it', 'Name', 'Age', 'Price', 'Created', 'IsDeleted', 'Photo',
  'Span', 'Id', 'eq', 'ne', 'gt', 'lt', 'and', 'or', 'not', 'in', 'has', 'add', 'sub', 'mul', 'div', 'divby', 'mod',
  'contains(', 'substring(', 'round(', 'year(', 'cast(', 'isof(', 'Edm.String', 'now()', 'any(', 'd:', '1', '2.5', '1e3',
  'null', 'true', 'INF', '2020-01-01', '2020-01-01T00:00:00Z', "duration'P1D'", "binary'AA=='", 'AND', 'OR', 'NOT', '*', '[', '{',
];
const tokenString = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((a) => a.join(''));
const anyString = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }), tokenString);
const aliases = new Map([['@a', "'x'"]]);

test('parseFilter/planFilter/compileFilter throw only ODataError 4xx/501', () => {
  fc.assert(
    fc.property(anyString, (s) =>
      onlyODataErrors(() => compileFilter(planFilter(parseFilter(s), set, aliases), { alias: 't', params: [] })),
    ),
    { numRuns: 3000 },
  );
});

test('parseOrderBy/planOrderBy throw only ODataError 4xx/501', () => {
  fc.assert(
    fc.property(anyString, (s) => onlyODataErrors(() => compileOrderBy(planOrderBy(parseOrderBy(s), set), { alias: 't', params: [] }))),
    { numRuns: 2000 },
  );
});

test('parseSearch/parseSelect throw only ODataError 4xx/501', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      onlyODataErrors(() => compileSearch(planSearch(parseSearch(s), set), { alias: 't', params: [] }));
      onlyODataErrors(() => planSelect(parseSelect(s), set));
    }),
    { numRuns: 2000 },
  );
});

test('deep nesting is refused with QueryTooComplex, not a stack overflow', () => {
  for (const s of ['('.repeat(10000) + 'true' + ')'.repeat(10000), 'not '.repeat(10000) + 'true', '-'.repeat(10000) + 'Age eq 1']) {
    assert.throws(() => parseFilter(s), (e: unknown) => e instanceof ODataError && e.code === 'QueryTooComplex');
  }
  assert.throws(() => parseSearch('('.repeat(10000) + 'a' + ')'.repeat(10000)), (e: unknown) => e instanceof ODataError && e.code === 'QueryTooComplex');
  assert.throws(() => parseSearch('NOT '.repeat(10000) + 'a'), (e: unknown) => e instanceof ODataError && e.code === 'QueryTooComplex');
  const wide = Array.from({ length: 600 }, () => 'Age eq 1').join(' or ');
  assert.throws(() => parseFilter(wide), (e: unknown) => e instanceof ODataError && e.code === 'QueryTooComplex');
});

test('self-referencing aliases are refused', () => {
  assert.throws(
    () => planFilter(parseFilter('Age eq @x'), set, new Map([['@x', '@x']])),
    (e: unknown) => e instanceof ODataError && e.status === 400,
  );
});
