import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ODataError } from '../errors/odata-error.js';
import { parseQuery, queryOptions } from './query-cache.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ODataError, String(e));
    return `${e.status} ${e.code}`;
  }
  return 'no error';
}

describe('remembered query strings', () => {
  it('parses a repeated query string once and shares its options', () => {
    const qs = "$filter=name%20eq%20'x'&$top=5&@p=1";
    const a = parseQuery(qs);
    assert.equal(parseQuery(qs), a);
    assert.equal(a.system.get('filter'), "name eq 'x'");
    assert.equal(a.aliases.get('p'), '1');
    const o = queryOptions(a, 'collection');
    assert.equal(queryOptions(parseQuery(qs), 'collection'), o);
    assert.deepEqual({ filter: o.filter, top: o.top }, { filter: "name eq 'x'", top: 5 });
  });

  it('checks the options for each kind of resource: what a collection accepts, an entity refuses, every time', () => {
    const raw = parseQuery('$top=5&$select=id');
    assert.equal(queryOptions(raw, 'collection').top, 5);
    for (let i = 0; i < 2; i++) assert.equal(code(() => queryOptions(raw, 'entity')), '400 InvalidQueryOption');
    assert.equal(queryOptions(raw, 'collection').top, 5);
  });

  it('refuses a bad query string on every request (a failure is not remembered)', () => {
    for (let i = 0; i < 2; i++) assert.equal(code(() => parseQuery('$filter=%zz')), '400 BadRequest');
    for (let i = 0; i < 2; i++) assert.equal(code(() => parseQuery('$top=1&$top=2')), '400 DuplicateQueryOption');
    const raw = parseQuery('$top=abc');
    for (let i = 0; i < 2; i++) assert.equal(code(() => queryOptions(raw, 'collection')), '400 InvalidQueryOption');
  });

  it('keeps skip-token URLs apart, so that a long walk does not push other URLs out; not very long query strings', () => {
    const listView = '$filter=name%20eq%20%27x%27&$top=5';
    const kept = parseQuery(listView);
    const token = '$skiptoken=abc&$top=5';
    assert.equal(parseQuery(token), parseQuery(token), 'a repeated token URL is parsed once');
    assert.equal(parseQuery(token).system.get('skiptoken'), 'abc');
    for (let i = 0; i < 1000; i++) parseQuery(`$skiptoken=page${i}&$top=5`);
    assert.equal(parseQuery(listView), kept, 'a 1,000-page walk left the list view URL in its memo');
    assert.notEqual(parseQuery(token), parseQuery(`$skiptoken=page0&$top=5`));
    const long = `$filter=${encodeURIComponent(`name eq '${'x'.repeat(2100)}'`)}`;
    assert.notEqual(parseQuery(long), parseQuery(long));
    assert.equal(parseQuery('').system.size, 0);
  });
});
