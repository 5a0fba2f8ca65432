/**
 * Exact SQL of the write path: untyped text parameters (timestamp converted from UTC), DEFAULT on PUT,
 * If-Match in the WHERE clause of the write itself, RETURNING what the read path renders.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeSet } from '../validate/write-fixture.js';
import { conditional, parseIfMatch, planDelete, planInsert, planUpdate } from '../plan/write.js';
import { existsSql, returningList, writeSql } from './write.js';
import { ODataError } from '../errors/odata-error.js';

const set = writeSet();
const c = (n: string) => set.columnsByName.get(n)!;
const key = [{ column: c('id'), value: '7' }];
const RET = returningList(set, false);
/** a DELETE's answer shows no entity: its first returned column is null */
const RET_NO_ENTITY = returningList(set, false, false);

describe('parseIfMatch', () => {
  it('reads *, weak and strong tags and lists', () => {
    assert.equal(parseIfMatch(undefined), undefined);
    assert.equal(parseIfMatch(' * '), 'any');
    assert.deepEqual(parseIfMatch('W/"abc"'), ['abc']);
    assert.deepEqual(parseIfMatch('"abc", W/"def"'), ['abc', 'def']);
    assert.throws(() => parseIfMatch('abc'), ODataError);
    assert.throws(() => parseIfMatch('"abc" junk'), ODataError);
    assert.throws(() => parseIfMatch('junk', 'If-None-Match'), (e: ODataError) => /^If-None-Match must be/.test(e.message));
  });
  it('tells which conditions can make a write on an existing entity fail (412)', () => {
    assert.equal(conditional({}), false);
    assert.equal(conditional({ ifMatch: 'any' }), false);
    assert.equal(conditional({ ifMatch: ['a'] }), true);
    assert.equal(conditional({ ifNoneMatch: 'any' }), true);
    assert.equal(conditional({ bodyEtag: ['a'] }), true);
  });
});

describe('planUpdate', () => {
  it('PUT resets unsent writable columns to default or null, leaves key, computed, read-only and version columns', () => {
    const p = planUpdate(set, key, [{ column: c('name'), value: 'n' }], true, {});
    assert.deepEqual(p.assignments.map((a) => [a.column.name, a.kind === 'default' ? 'DEFAULT' : a.value]), [
      ['name', 'n'], ['qty', 'DEFAULT'], ['price', null], ['big', null], ['ratio', null], ['made', null], ['photo', null], ['span', null],
    ]);
  });
});

describe('writeSql', () => {
  it('insert', () => {
    const q = writeSql(planInsert(set, [{ column: c('name'), value: 'a' }, { column: c('made'), value: '2024-01-01T00:00:00+02:00' }]), false);
    assert.equal(q.text, `insert into public.item as t (name, made) values ($1, ($2::timestamptz at time zone 'UTC')) returning ${RET}`);
    assert.deepEqual(q.values, ['a', '2024-01-01T00:00:00+02:00']);
    assert.equal(writeSql(planInsert(set, []), false).text, `insert into public.item as t default values returning ${RET}`);
  });
  it('update with If-Match compares the ETag in the same statement', () => {
    const q = writeSql(planUpdate(set, key, [{ column: c('name'), value: 'b' }], true, { ifMatch: ['h1', 'h2'] }), false);
    assert.equal(
      q.text,
      `update public.item as t set name = $1, qty = default, price = $2, big = $3, ratio = $4, made = ($5::timestamptz at time zone 'UTC'), photo = $6, span = $7 where t.id = $8::int4 and coalesce(md5(t.version::text), 'null') = any($9::text[]) returning ${RET}`,
    );
    assert.deepEqual(q.values, ['b', null, null, null, null, null, null, '7', ['h1', 'h2']]);
    const star = writeSql(planUpdate(set, key, [{ column: c('qty'), value: '1' }], false, { ifMatch: 'any' }), false);
    assert.equal(star.text, `update public.item as t set qty = $1 where t.id = $2::int4 returning ${RET}`);
  });
  it('If-None-Match: * writes nothing; tags must all differ; a 4.01 body ETag is compared as well as If-Match', () => {
    assert.equal(writeSql(planDelete(set, key, { ifNoneMatch: 'any' }), false).text, `delete from public.item as t where t.id = $1::int4 and false returning ${RET_NO_ENTITY}`);
    const q = writeSql(planUpdate(set, key, [{ column: c('qty'), value: '1' }], false, { ifMatch: ['a'], bodyEtag: ['b'], ifNoneMatch: ['c'] }), false);
    assert.equal(
      q.text,
      `update public.item as t set qty = $1 where t.id = $2::int4 and coalesce(md5(t.version::text), 'null') = any($3::text[]) and coalesce(md5(t.version::text), 'null') = any($4::text[]) and coalesce(md5(t.version::text), 'null') <> all($5::text[]) returning ${RET}`,
    );
    assert.deepEqual(q.values, ['1', '7', ['a'], ['b'], ['c']]);
  });
  it('an empty PATCH locks and returns the row', () => {
    assert.equal(writeSql(planUpdate(set, key, [], false, {}), false).text, `select ${RET} from public.item t where t.id = $1::int4 for update`);
  });
  it('an answer that shows no entity (a 204) returns null in its place; the ETag and key stay', () => {
    assert.ok(RET_NO_ENTITY.startsWith('null, coalesce(md5('), RET_NO_ENTITY);
    const q = writeSql(planUpdate(set, key, [{ column: c('qty'), value: '1' }], false, {}), false, false);
    assert.equal(q.text, `update public.item as t set qty = $1 where t.id = $2::int4 returning ${RET_NO_ENTITY}`);
  });

  it('delete and exists', () => {
    assert.equal(writeSql(planDelete(set, key, { ifMatch: ['h'] }), false).text, `delete from public.item as t where t.id = $1::int4 and coalesce(md5(t.version::text), 'null') = any($2::text[]) returning ${RET_NO_ENTITY}`);
    assert.equal(existsSql(set, key).text, 'select 1 from public.item t where t.id = $1::int4');
  });
  it('returns the entity JSON, the ETag and the key as text', () => {
    assert.match(RET, /^json_build_object\('id', t\.id, 'name', t\.name, .*\)::text, coalesce\(md5\(t\.version::text\), 'null'\), t\.id::text$/);
  });
});
