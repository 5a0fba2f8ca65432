/**
 * The `if` member of JSON batch requests: the subset evaluated ($<id>/$succeeded, true, false, not, and, or,
 * parentheses, OData's precedence) and what falls outside it (undefined: the request is answered 424).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conditionRefs, evaluateCondition, parseBatchCondition } from './batch-condition.js';

const ok = new Set(['1', 'g1', 'a.b-c_d~e']);
const holds = (text: string): boolean => {
  const c = parseBatchCondition(text);
  assert.ok(c, `parses: ${text}`);
  return evaluateCondition(c, (id) => ok.has(id));
};

describe('JSON batch "if" conditions', () => {
  it('evaluates $<id>/$succeeded with not, and, or, parentheses and the literals', () => {
    assert.equal(holds('$1/$succeeded'), true);
    assert.equal(holds('$2/$succeeded'), false);
    assert.equal(holds('not $2/$succeeded'), true);
    assert.equal(holds('$1/$succeeded and $2/$succeeded'), false);
    assert.equal(holds('$1/$succeeded or $2/$succeeded'), true);
    assert.equal(holds('true'), true);
    assert.equal(holds('false or $g1/$succeeded'), true);
    assert.equal(holds('$a.b-c_d~e/$succeeded'), true);
    assert.equal(holds('not ($1/$succeeded and $2/$succeeded)'), true);
    assert.equal(holds('NOT $1/$succeeded'), false, 'keywords in any case');
    assert.equal(holds('$1/$succeeded%20and%20not%20$2/$succeeded'), true, 'percent-encoded blanks');
  });

  it('gives and precedence over or, not over both', () => {
    // false and false or true = (false and false) or true = true; with or first it would be false
    assert.equal(holds('$2/$succeeded and $3/$succeeded or $1/$succeeded'), true);
    assert.equal(holds('$1/$succeeded or $2/$succeeded and $3/$succeeded'), true);
    assert.equal(holds('not $2/$succeeded and $1/$succeeded'), true);
    assert.equal(holds('not ($2/$succeeded or $1/$succeeded)'), false);
  });

  it('lists the requests a condition speaks of', () => {
    assert.deepEqual(conditionRefs(parseBatchCondition('not ($1/$succeeded or $g1/$succeeded) and true')!), ['1', 'g1']);
  });

  it('answers undefined outside the subset: body values, comparisons, bad syntax, over 2,000 characters', () => {
    assert.equal(holds(`${'('.repeat(300)}true${')'.repeat(300)}`), true, 'nesting within the length is fine');
    for (const text of [
      '',
      '   ',
      '$1',
      '$1/Building eq 5',
      "$1/name eq 'x'",
      '$1/$succeeded eq true',
      '$1/$succeededx',
      '$/$succeeded',
      '($1/$succeeded',
      '$1/$succeeded)',
      '$1/$succeeded and',
      'not',
      'and $1/$succeeded',
      '$1/$succeeded $2/$succeeded',
      'yes',
      '%E0%A4%A',
      `${'('.repeat(1000)}true${')'.repeat(1000)}`,
      `${'not '.repeat(600)}true`,
    ]) {
      assert.equal(parseBatchCondition(text), undefined, text);
    }
  });
});
