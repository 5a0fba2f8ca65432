/** The memo of planned pages: LRU bound, nothing cached for a stage that throws, keys that tell options apart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { optionsKey, Memo } from './memo.js';
import type { QueryOptions } from '../odata/query-options.js';

const opts = (o: Partial<QueryOptions>): QueryOptions => ({ aliases: new Map(), ...o });

describe('Memo', () => {
  it('builds once per owner and key, evicts the least recently used', () => {
    const c = new Memo<number>(2);
    const a = {};
    const b = {};
    let builds = 0;
    const build = (v: number) => () => (builds++, v);
    assert.equal(c.get(a, 'x', build(1)), 1);
    assert.equal(c.get(a, 'x', build(9)), 1, 'a hit does not rebuild');
    assert.equal(c.get(b, 'x', build(2)), 2, 'owners (entity sets) do not share entries');
    c.get(a, 'y', build(3));
    c.get(a, 'x', build(9)); // x is now the most recent
    c.get(a, 'z', build(4)); // evicts y
    assert.equal(c.get(a, 'x', build(9)), 1);
    assert.equal(c.get(a, 'y', build(5)), 5, 'y was evicted and is built again');
    assert.equal(builds, 5);
  });
  it('caches nothing when the stage throws', () => {
    const c = new Memo<number>(4);
    const o = {};
    assert.throws(() => c.get(o, 'bad', () => { throw new Error('400'); }), /400/);
    assert.equal(c.get(o, 'bad', () => 7), 7);
  });
});

describe('optionsKey', () => {
  it('tells apart every option, absent from empty, and the extra parts', () => {
    const keys = [
      optionsKey(opts({})),
      optionsKey(opts({ filter: '' })),
      optionsKey(opts({ filter: 'a eq 1' })),
      optionsKey(opts({ orderby: 'a eq 1' })),
      optionsKey(opts({ select: 'a' })),
      optionsKey(opts({ search: 'a' })),
      optionsKey(opts({ top: 1 })),
      optionsKey(opts({ skip: 1 })),
      optionsKey(opts({ count: true })),
      optionsKey(opts({ count: false })),
      optionsKey(opts({ skiptoken: 'a' })),
      optionsKey(opts({ format: 'json' })),
      optionsKey(opts({ aliases: new Map([['p', '1']]) })),
      optionsKey(opts({ aliases: new Map([['p', '2']]) })),
      optionsKey(opts({}), 100),
      optionsKey(opts({}), 100, true),
      optionsKey(opts({}), 100, false, 'full'),
    ];
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(optionsKey(opts({ filter: 'x', top: 5 }), 10, 'minimal'), optionsKey(opts({ top: 5, filter: 'x' }), 10, 'minimal'));
  });
});
