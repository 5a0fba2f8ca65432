/**
 * Exact SQL of the read path: keyset conditions (OData null ordering), collection pages with and without
 * count, single entities, properties and counts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entitySet } from '../plan/test-fixture.js';
import { keysetCondition, collectionSql, countSql, entitySql, propertySql } from './read.js';
import type { CollectionPlan } from '../plan/read.js';

const set = entitySet();
const col = (n: string) => set.columnsByName.get(n)!;

describe('keysetCondition', () => {
  it('uses a row comparison when every term is NOT NULL and goes one way', () => {
    const params: unknown[] = [];
    const sql = keysetCondition(
      [
        { value: 't.code', desc: false, nullable: false, cast: 'text' },
        { value: 't.id', desc: false, nullable: false, cast: 'uuid' },
      ],
      ['b', 'k'],
      params,
    );
    assert.equal(sql, '(t.code, t.id) > ($1::text, $2::uuid)');
    assert.deepEqual(params, ['b', 'k']);
    const p2: unknown[] = [];
    assert.equal(keysetCondition([{ value: 't.id', desc: true, nullable: false, cast: 'int4' }], ['5'], p2), 't.id < $1::int4');
  });

  it('puts nulls first ascending: after a null every non-null follows', () => {
    const params: unknown[] = [];
    const sql = keysetCondition(
      [
        { value: 't.name', desc: false, nullable: true, cast: 'text' },
        { value: 't.id', desc: false, nullable: false, cast: 'uuid' },
      ],
      [null, 'k'],
      params,
    );
    assert.equal(sql, '(t.name is not null or (t.name is null and t.id > $1::uuid))');
    assert.deepEqual(params, ['k']);
  });

  it('puts nulls last descending: after a value come smaller values and nulls', () => {
    const params: unknown[] = [];
    const sql = keysetCondition(
      [
        { value: 't.name', desc: true, nullable: true, cast: 'text' },
        { value: 't.id', desc: false, nullable: false, cast: 'uuid' },
      ],
      ['m', 'k'],
      params,
    );
    assert.equal(sql, '((t.name < $1::text or t.name is null) or (t.name = $2::text and t.id > $3::uuid))');
    assert.deepEqual(params, ['m', 'm', 'k']);
    const p2: unknown[] = [];
    assert.equal(
      keysetCondition([{ value: 't.name', desc: true, nullable: true, cast: 'text' }, { value: 't.id', desc: false, nullable: false, cast: 'uuid' }], [null, 'k'], p2),
      '((t.name is null and t.id > $1::uuid))',
    );
  });
});

describe('keysetCondition: parameters', () => {
  it('pushes no parameter for a left-out disjunct (null in a descending term after a valued term)', () => {
    // $orderby=n,d desc after (n=-1, d=null, id=21): the "d beyond null" disjunct is empty; its prefix
    // "n = $x" must not leave an unused, untyped parameter behind
    const params: unknown[] = [];
    const sql = keysetCondition(
      [
        { value: 't.n', desc: false, nullable: true, cast: 'numeric' },
        { value: 't.d', desc: true, nullable: true, cast: 'float8' },
        { value: 't.id', desc: false, nullable: false, cast: 'int4' },
      ],
      ['-1', null, '21'],
      params,
    );
    assert.equal(sql, '(t.n > $1::numeric or (t.n = $2::numeric and t.d is null and t.id > $3::int4))');
    assert.deepEqual(params, ['-1', '-1', '21']);
    const used = new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    assert.equal(used.size, params.length);
  });
});

describe('collectionSql', () => {
  const base: CollectionPlan = {
    kind: 'collection',
    set,
    select: [col('Id'), col('Name')],
    selectExplicit: true,
    order: [{ kind: 'key', column: col('Id') }],
    skip: 0,
    pageSize: 2000,
    count: false,
    etag: false,
  };

  it('sorts and limits inside, renders JSON outside', () => {
    const q = collectionSql(base, 101, false);
    assert.equal(
      q.text,
      'select row_to_json(m.*)::text as j, (t.id)::text as o0 from (select * from public.people t order by t.id limit $1) t cross join lateral (select t.id as "Id", t.name as "Name") m',
    );
    assert.deepEqual(q.values, [101]);
    assert.equal(q.aggregated, false);
  });

  it('joins a page into one text, with its row count and the order values of its last row', () => {
    const q = collectionSql({ ...base, select: [col('Name')] }, 51, false, 'none', 50);
    assert.equal(
      q.text,
      "select string_agg(p.j, E'\\x1e'), count(*)::int4, (array_agg(p.o0))[$2::int4] from (select row_to_json(m.*)::text as j, (t.id)::text as o0 from (select * from public.people t order by t.id limit $1) t cross join lateral (select t.name as \"Name\") m) p",
    );
    assert.deepEqual(q.values, [51, 50], 'the page size is a parameter (Prefer: odata.maxpagesize varies it)');
    assert.equal(q.aggregated, true);
    const exact = collectionSql(base, 50, false, 'minimal', 50);
    assert.equal(
      exact.text,
      "select string_agg(row_to_json(m.*)::text, E'\\x1e'), count(*)::int4 from (select t.id as \"Id\", t.name as \"Name\" from (select * from public.people t order by t.id limit $1) t) m",
      'no order values when no row beyond the page was asked for: a plain subquery, no LATERAL',
    );
    assert.match(collectionSql({ ...base, select: [] }, 50, false, 'none', 50).text, /^select string_agg\('\{\}'::text, E'\\x1e'\), count\(\*\)::int4 from \(select \* from public\.people t order by t\.id limit \$1\) t$/);
    const counted = collectionSql({ ...base, count: true }, 50, false, 'minimal', 50);
    assert.match(counted.text, /^select c\.n::text, p\.\* from \(select count\(\*\) as n from public\.people t\) c cross join lateral \(select string_agg.*\) p$/);
    assert.equal(collectionSql(base, 50, false, 'full', 50).aggregated, false, 'full metadata adds control information per entity in Node');
  });

  it('reads the skip token values from the last entity when every order term is a selected column', () => {
    const q = collectionSql({ ...base, select: [col('Id'), col('Name')] }, 51, false, 'minimal', 50);
    assert.deepEqual(q.orderFromEntity, ['Id']);
    assert.equal(q.orderFromEntityExact, true, 'an integer key: JSON.parse reads it exactly');
    assert.doesNotMatch(q.text, /array_agg|lateral/);
    const unselected = collectionSql({ ...base, select: [col('Name')] }, 51, false, 'none', 50);
    assert.equal(unselected.orderFromEntity, undefined);
    assert.match(unselected.text, /\(array_agg\(p\.o0\)\)\[\$2::int4\]/, 'an order column outside $select: its values come from PostgreSQL');
  });

  it('minimal metadata with a projection that leaves out the key: one row per entity with its key, for @odata.id', () => {
    const q = collectionSql({ ...base, select: [col('Name')], etag: true }, 51, false, 'minimal', 50);
    assert.equal(q.aggregated, false);
    assert.equal(q.rendered, false);
    assert.equal(q.keyCount, 1);
    assert.equal(q.etagColumn, true);
    assert.match(q.text, /^select row_to_json\(m\.\*\)::text as j, t\."\$xmin"::text as e, t\.id::text as k0, \(t\.id\)::text as o0 from /);
  });

  it('adds the count, offset and keyset condition', () => {
    const q = collectionSql({ ...base, count: true, skip: 10, etag: true }, 5, true, 'full');
    assert.match(q.text, /^select c\.n::text, p\.\* from \(select count\(\*\) as n from public\.people t\) c left join lateral \(select .* as j, \(select x\.xmin from public\.people x where x\.id = t\.id\)::text as e, t\.id::text as k0, \(t\.id\)::text as o0 from \(select \* from public\.people t order by t\.id limit \$1 offset \$2\) t cross join lateral \(select .*\) m\) p on true$/, 'with OFFSET the row version is looked up by key, not projected for every skipped row');
    assert.deepEqual(q.values, [5, 10]);
    const k = collectionSql({ ...base, after: ['abc'], skip: 10 }, 5, false);
    assert.match(k.text, /from public\.people t where t\.id > \$1::uuid order by t\.id limit \$2\) t cross join lateral/);
    assert.deepEqual(k.values, ['abc', 5], 'the offset is not applied once a token positions the page');
  });
});

describe('single reads', () => {
  it('selects an entity and its ETag by key', () => {
    const q = entitySql({ kind: 'entity', set, key: [{ column: col('Id'), value: 'abc' }], select: [col('Name')], selectExplicit: true, etag: true }, false);
    assert.equal(q.text, "select json_build_object('Name', t.name)::text, t.xmin::text from public.people t where t.id = $1::uuid");
    assert.deepEqual(q.values, ['abc']);
  });
  it('reuses the text of a shape and binds each request\'s key values', () => {
    const plan = { kind: 'entity' as const, set, key: [{ column: col('Id'), value: 'a' }], select: [col('Name')], selectExplicit: true, etag: true };
    const a = entitySql(plan, false);
    const b = entitySql({ ...plan, key: [{ column: col('Id'), value: 'b' }] }, false);
    assert.equal(a.text, b.text);
    assert.deepEqual([a.values, b.values], [['a'], ['b']]);
    assert.notEqual(entitySql({ ...plan, etag: false }, false).text, a.text);
    assert.notEqual(entitySql({ ...plan, select: [col('Id')] }, false).text, a.text);
  });
  it('selects a property as JSON and as raw text', () => {
    const q = propertySql({ kind: 'property', set, key: [{ column: col('Id'), value: 'abc' }], property: col('Big'), rawValue: false }, true);
    assert.equal(q.text, "select to_json(t.big::text)::text, to_json(t.big::text) #>> '{}' from public.people t where t.id = $1::uuid");
  });
  it('counts with the filter only', () => {
    assert.equal(countSql({ kind: 'count', set }).text, 'select count(*)::text from public.people t');
  });
});

describe('null-split ordering', () => {
  it('reads null and non-null rows of a nullable first order column in two index-friendly branches', () => {
    const plan: CollectionPlan = {
      kind: 'collection',
      set,
      select: [col('Id')],
      selectExplicit: true,
      order: [
        { kind: 'item', item: { expr: { kind: 'column', column: col('Name'), type: 'Edm.String', nullable: true }, desc: false, type: 'Edm.String', nullable: true } },
        { kind: 'key', column: col('Id') },
      ],
      skip: 3,
      pageSize: 2000,
      count: false,
      etag: false,
    };
    const q = collectionSql(plan, 10, false);
    assert.equal(
      q.text,
      'select row_to_json(m.*)::text as j, (t.name)::text as o0, (t.id)::text as o1 from (' +
        'select * from ((select t.id, t.name from public.people t where t.name is null order by t.id limit $1::int8 + $2::int8) union all ' +
        '(select t.id, t.name from public.people t where t.name is not null order by t.name, t.id limit $1::int8 + $2::int8)) t ' +
        'order by t.name is not null, t.name, t.id limit $1 offset $2) t cross join lateral (select t.id as "Id") m',
    );
    assert.deepEqual(q.values, [10, 3]);
    const desc = collectionSql({ ...plan, skip: 0, order: [{ ...plan.order[0]!, item: { ...(plan.order[0] as { item: any }).item, desc: true } } as any, plan.order[1]!] }, 10, false);
    assert.match(desc.text, /\(select t\.id, t\.name from public\.people t where t\.name is not null order by t\.name desc, t\.id limit \$1\) union all \(select t\.id, t\.name from public\.people t where t\.name is null order by t\.id limit \$1\)\) t order by t\.name is null, t\.name desc, t\.id limit \$1\) t cross join lateral/);
    // An order term that is an expression may read any column: the branches keep every column.
    const lower = collectionSql({ ...plan, skip: 0, order: [plan.order[0]!, { kind: 'item', item: { expr: { kind: 'call', fn: 'tolower', args: [{ kind: 'column', column: col('Name'), type: 'Edm.String', nullable: true }], type: 'Edm.String', nullable: true }, desc: false, type: 'Edm.String', nullable: true } } as any] }, 10, false);
    assert.match(lower.text, /\(\(select \* from public\.people t where t\.name is null order by /);
  });
});

describe('minimal metadata', () => {
  const plan: CollectionPlan = { kind: 'collection', set, select: [col('Id')], selectExplicit: true, order: [{ kind: 'key', column: col('Id') }], skip: 0, pageSize: 2000, count: false, etag: true };
  it('lets PostgreSQL write the ETag into each entity, first', () => {
    const q = collectionSql(plan, 3, false, 'minimal');
    assert.equal(
      q.text,
      `select row_to_json(m.*)::text as j, (t.id)::text as o0 from (select t.xmin as "$xmin", t.* from public.people t order by t.id limit $1) t cross join lateral (select 'W/"' || t."$xmin"::text || '"' as "@odata.etag", t.id as "Id") m`,
    );
    assert.equal(q.rendered, true);
    assert.equal(q.etagColumn, false);
  });
  it('renders every property through its JSON value expression (IEEE754Compatible numbers as strings)', () => {
    const q = collectionSql({ ...plan, select: [col('Id'), col('Big')] }, 3, true, 'minimal');
    assert.match(q.text, /cross join lateral \(select 'W\/"' \|\| t\."\$xmin"::text \|\| '"' as "@odata\.etag", t\.id as "Id", t\.big::text as "Big"\) m$/);
  });
  it('leaves the ETag out with metadata=none, and renders an empty selection as {}', () => {
    assert.match(collectionSql(plan, 3, false, 'none').text, /cross join lateral \(select t\.id as "Id"\) m$/);
    assert.match(collectionSql({ ...plan, select: [] }, 3, false, 'none').text, /^select '\{\}'::text as j/);
  });
});

describe('whole-row rendering', () => {
  const whole = { ...set, wholeRow: true };
  it('reads a single entity as row_to_json of the row', () => {
    assert.match(entitySql({ kind: 'entity', set: whole, key: [{ column: col('Id'), value: 'a' }], select: whole.columns, selectExplicit: false, etag: true }, false).text, /^select row_to_json\(t\)::text, t\.xmin::text from public\.people t/);
  });
});
