/**
 * The JSON Schema derived from the catalog for each write mode, and validateBody: one detail per
 * offending property, raw-text number checks, and the PostgreSQL text form of accepted values.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'lossless-json';
import { ODataError } from '../errors/odata-error.js';
import { entitySchema, validateBody, valueSchema } from './entity-schema.js';
import { writeSet } from './write-fixture.js';

const set = writeSet();
const body = (text: string): Record<string, unknown> => parse(text) as Record<string, unknown>;
function details(mode: 'create' | 'update' | 'replace', text: string): [string, string][] {
  try {
    validateBody(set, mode, body(text), 'NS');
  } catch (e) {
    assert.ok(e instanceof ODataError);
    assert.equal(e.code, 'InvalidBody');
    return (e.details ?? []).map((d) => [d.target!, d.code]);
  }
  assert.fail('expected a validation error');
}

describe('entitySchema', () => {
  it('derives value schemas from Edm types and facets', () => {
    const c = (n: string) => set.columnsByName.get(n)!;
    assert.deepEqual(valueSchema(c('name')), { type: ['string'], maxLength: 5 });
    assert.deepEqual(valueSchema(c('qty')), { type: ['integer'], minimum: -2147483648, maximum: 2147483647 });
    assert.deepEqual(valueSchema(c('price')), { type: ['string', 'null'], edmDecimal: { scale: 2, precision: 18 } });
    assert.deepEqual(valueSchema(c('big')), { type: ['string', 'null'], edmInt64: true });
    assert.deepEqual(valueSchema(c('ratio')), { type: ['number', 'string', 'null'], pattern: '^(-?INF|NaN)$' });
    assert.deepEqual(valueSchema(c('made')), { type: ['string', 'null'], format: 'edm-datetimeoffset' });
  });
  it('accepts anything for read-only properties (ignored), requires NOT NULL columns without default, allows annotations', () => {
    const s = entitySchema(set, 'create', 'NS') as { properties: Record<string, unknown>; required: string[]; patternProperties: unknown; additionalProperties: boolean };
    assert.equal(s.properties['total'], true);
    assert.equal(s.properties['note'], true);
    assert.notEqual(s.properties['id'], true);
    assert.equal((entitySchema(set, 'update', 'NS') as { properties: Record<string, unknown> }).properties['id'], true);
    assert.deepEqual(s.required, ['name']);
    assert.deepEqual(s.properties['@odata.type'], { type: 'string', enum: ['#NS.item', 'NS.item'] });
    assert.deepEqual(s.patternProperties, { '@': true });
    assert.equal(s.additionalProperties, false);
    assert.deepEqual((entitySchema(set, 'update', 'NS') as { required: string[] }).required, []);
    assert.deepEqual((entitySchema(set, 'replace', 'NS') as { required: string[] }).required, ['name']);
  });
});

describe('validateBody', () => {
  it('lists every offending property once', () => {
    assert.deepEqual(
      details('create', '{"name":null,"qty":"1","price":1.234,"big":9223372036854775808,"ratio":"x","made":"2024-01-01","photo":"!","span":"P1Y","total":1,"note":"n","zzz":1}').sort(),
      [
        ['big', 'InvalidBody'], ['made', 'InvalidBody'], ['name', 'InvalidBody'], ['photo', 'InvalidBody'], ['price', 'InvalidBody'],
        ['qty', 'InvalidBody'], ['ratio', 'InvalidBody'], ['span', 'InvalidBody'], ['zzz', 'UnknownProperty'],
      ],
    );
    assert.deepEqual(details('create', '{"qty":1}'), [['name', 'InvalidBody']]);
    assert.deepEqual(details('update', '{"@odata.type":"#Other.item"}'), [['@odata.type', 'InvalidBody']]);
  });
  it('refuses an unpaired surrogate (no UTF-8 form), accepts a pair', () => {
    assert.deepEqual(details('create', '{"name":"a\\ud800b"}'), [['name', 'InvalidBody']]);
    assert.deepEqual(details('update', '{"name":"\\udc00"}'), [['name', 'InvalidBody']]);
    assert.equal(validateBody(set, 'update', body('{"name":"\\ud83d\\ude00"}'), 'NS').length, 1);
  });
  it('counts MaxLength in characters, not bytes or UTF-16 units', () => {
    assert.equal(validateBody(set, 'update', body('{"name":"\u00e9\u00e9\u00e9\u00e9\u00e9"}'), 'NS').length, 1);
    assert.equal(validateBody(set, 'update', body('{"name":"\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00"}'), 'NS').length, 1);
    assert.deepEqual(details('update', '{"name":"abcdef"}'), [['name', 'InvalidBody']]);
  });
  it('returns PostgreSQL text forms, keeping every digit', () => {
    const v = validateBody(set, 'create', body('{"@odata.etag":"W/\\"x\\"","name":"a","qty":5.0,"price":1234567890123456.78,"big":"-9223372036854775808","ratio":"-INF","photo":"AP_-","span":"-P1D","made":null}'), 'NS');
    assert.deepEqual(
      v.map((x) => [x.column.name, x.value]),
      [['name', 'a'], ['qty', '5'], ['price', '1234567890123456.78'], ['big', '-9223372036854775808'], ['ratio', '-Infinity'], ['made', null], ['photo', Buffer.from([0, 255, 254])], ['span', 'P-1D']],
    );
  });
  it('ignores keys in PATCH and PUT bodies and computed or read-only properties in every mode (Protocol 11.4.2, 11.4.3)', () => {
    assert.deepEqual(validateBody(set, 'update', body('{"id":1}'), 'NS'), []);
    assert.deepEqual(validateBody(set, 'replace', body('{"id":"not even a number","name":"n"}'), 'NS').map((v) => v.column.name), ['name']);
    assert.deepEqual(validateBody(set, 'create', body('{"id":5,"name":"n","total":1,"note":"x"}'), 'NS').map((v) => v.column.name), ['id', 'name']);
    assert.deepEqual(details('create', '{"id":"1","name":"n"}'), [['id', 'InvalidBody']]);
  });
});
