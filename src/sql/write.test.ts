/**
 * Exact SQL of the write path: untyped text parameters (timestamp converted from UTC), DEFAULT on PUT,
 * If-Match in the WHERE clause of the write itself, RETURNING what the read path renders.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeSet } from '../validate/write-fixture.js';
import { parseIfMatch, planDelete, planInsert, planUpdate, sameKeyValue } from '../plan/write.js';
import { existsSql, returningList, writeSql } from './write.js';
import { ODataError } from '../errors/odata-error.js';

const set = writeSet();
const c = (n: string) => set.columnsByName.get(n)!;
const key = [{ column: c('id'), value: '7' }];
const RET = returningList(set, false);

describe('parseIfMatch', () => {
  it('reads *, weak and strong tags and lists', () => {
    assert.equal(parseIfMatch(undefined), undefined);
    assert.equal(parseIfMatch(' * '), 'any');
    assert.deepEqual(parseIfMatch('W/"abc"'), ['abc']);
    assert.deepEqual(parseIfMatch('"abc", W/"def"'), ['abc', 'def']);
    assert.throws(() => parseIfMatch('abc'), ODataError);
    assert.throws(() => parseIfMatch('"abc" junk'), ODataError);
  });
});

describe('planUpdate', () => {
  it('PUT resets unsent writable columns to default or null, leaves key, computed, read-only and version columns', () => {
    const p = planUpdate(set, key, [{ column: c('name'), value: 'n' }], true, undefined);
    assert.deepEqual(p.assignments.map((a) => [a.column.name, a.kind === 'default' ? 'DEFAULT' : a.value]), [
      ['name', 'n'], ['qty', 'DEFAULT'], ['price', null], ['big', null], ['ratio', null], ['made', null], ['photo', null], ['span', null],
    ]);
  });
  it('drops a key equal to the URL key and refuses a different one', () => {
    assert.deepEqual(planUpdate(set, key, [{ column: c('id'), value: '07' }], false, undefined).assignments, []);
    assert.throws(() => planUpdate(set, key, [{ column: c('id'), value: '8' }], false, undefined), (e: ODataError) => e.code === 'InvalidBody' && e.target === 'id');
    assert.ok(sameKeyValue({ ...c('id'), edm: 'Edm.Guid' }, 'ABC', 'abc'));
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
    const q = writeSql(planUpdate(set, key, [{ column: c('name'), value: 'b' }], true, ['h1', 'h2']), false);
    assert.equal(
      q.text,
      `update public.item as t set name = $1, qty = default, price = $2, big = $3, ratio = $4, made = ($5::timestamptz at time zone 'UTC'), photo = $6, span = $7 where t.id = $8::int4 and md5(t.version::text) = any($9::text[]) returning ${RET}`,
    );
    assert.deepEqual(q.values, ['b', null, null, null, null, null, null, '7', ['h1', 'h2']]);
    const star = writeSql(planUpdate(set, key, [{ column: c('qty'), value: '1' }], false, 'any'), false);
    assert.equal(star.text, `update public.item as t set qty = $1 where t.id = $2::int4 returning ${RET}`);
  });
  it('an empty PATCH locks and returns the row', () => {
    assert.equal(writeSql(planUpdate(set, key, [], false, undefined), false).text, `select ${RET} from public.item t where t.id = $1::int4 for update`);
  });
  it('delete and exists', () => {
    assert.equal(writeSql(planDelete(set, key, ['h']), false).text, `delete from public.item as t where t.id = $1::int4 and md5(t.version::text) = any($2::text[]) returning ${RET}`);
    assert.equal(existsSql(set, key).text, 'select 1 from public.item t where t.id = $1::int4');
  });
  it('returns the entity JSON, the ETag and the key as text', () => {
    assert.match(RET, /^json_build_object\('id', t\.id, 'name', t\.name, .*\)::text, md5\(t\.version::text\), t\.id::text$/);
  });
});
