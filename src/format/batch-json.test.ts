/**
 * The JSON $batch format: shape checks, atomicity groups (adjacent only), bodies re-serialised without
 * losing digits, and the response document embedding inner JSON bodies.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'lossless-json';
import { ODataError } from '../errors/odata-error.js';
import { parseJsonBatch, serializeJsonBatch } from './batch-json.js';

describe('JSON batch', () => {
  it('groups adjacent requests of an atomicity group and keeps number text', () => {
    const units = parseJsonBatch(
      parse('{"requests":[{"id":"1","method":"get","url":"a"},{"id":"2","atomicityGroup":"g","method":"post","url":"a","body":{"n":12345678901234567890.5}},{"id":"3","atomicityGroup":"g","method":"delete","url":"$2","dependsOn":["2"],"headers":{"If-Match":"*"}}]}'),
    );
    assert.deepEqual(units.map((u) => u.kind), ['request', 'changeset']);
    if (units[1]!.kind !== 'changeset') throw new Error('shape');
    const [p, d] = units[1]!.requests;
    assert.equal(p!.method, 'POST');
    assert.equal(p!.body, '{"n":12345678901234567890.5}');
    assert.equal(p!.headers.get('content-type'), 'application/json');
    assert.equal(d!.headers.get('if-match'), '*');
    assert.deepEqual(d!.dependsOn, ['2']);
  });
  it('refuses malformed documents, duplicate ids, non-adjacent groups', () => {
    const bad = [
      '{}',
      '{"requests":[{"id":"1","url":"a"}]}',
      '{"requests":[{"id":"1","method":"trace","url":"a"}]}',
      '{"requests":[{"id":"1","method":"get","url":"a"},{"id":"1","method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","atomicityGroup":"g","method":"post","url":"a"},{"id":"2","method":"get","url":"a"},{"id":"3","atomicityGroup":"g","method":"post","url":"a"}]}',
    ];
    for (const b of bad) assert.throws(() => parseJsonBatch(parse(b)), ODataError, b);
  });

  it('accepts dependsOn naming earlier requests or groups; refuses forward, unknown and self references', () => {
    const ok = '{"requests":[{"id":"1","method":"get","url":"a"},{"id":"2","atomicityGroup":"g","method":"post","url":"a"},{"id":"3","atomicityGroup":"g","dependsOn":["2"],"method":"post","url":"a"},{"id":"4","dependsOn":["1","g"],"method":"get","url":"a"}]}';
    assert.equal(parseJsonBatch(parse(ok)).length, 3);
    const bad = [
      '{"requests":[{"id":"1","dependsOn":["2"],"method":"get","url":"a"},{"id":"2","method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","dependsOn":["x"],"method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","dependsOn":["1"],"method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","atomicityGroup":"g","dependsOn":["g"],"method":"post","url":"a"}]}',
    ];
    for (const b of bad) {
      assert.throws(() => parseJsonBatch(parse(b)), (e: unknown) => e instanceof ODataError && e.status === 400 && /depends on/.test(e.message), b);
    }
  });
  it('reads the "if" member: the evaluated subset parsed, other conditions kept for a 424, references checked', () => {
    const units = parseJsonBatch(
      parse('{"requests":[{"id":"1","method":"get","url":"a"},{"id":"2","dependsOn":["1"],"if":"not $1/$succeeded","method":"get","url":"a"},{"id":"3","if":"$1/name eq \'x\'","method":"get","url":"a"}]}'),
    );
    const reqs = units.map((u) => (u.kind === 'request' ? u.request : undefined));
    assert.equal(reqs[0]!.condition, undefined);
    assert.deepEqual(reqs[1]!.condition, { text: 'not $1/$succeeded', parsed: { kind: 'not', arg: { kind: 'succeeded', id: '1' } } });
    assert.deepEqual(reqs[2]!.condition, { text: "$1/name eq 'x'", parsed: undefined });
    const bad = [
      '{"requests":[{"id":"1","if":"$2/$succeeded","method":"get","url":"a"},{"id":"2","method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","if":"$x/$succeeded","method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","if":"not $1/$succeeded","method":"get","url":"a"}]}',
      '{"requests":[{"id":"1","atomicityGroup":"g","if":"$g/$succeeded","method":"post","url":"a"}]}',
    ];
    for (const b of bad) {
      assert.throws(() => parseJsonBatch(parse(b)), (e: unknown) => e instanceof ODataError && e.status === 400 && /"if" condition/.test(e.message), b);
    }
    assert.throws(() => parseJsonBatch(parse('{"requests":[{"id":"1","if":5,"method":"get","url":"a"}]}')), ODataError, 'if must be a string');
  });
  it('serialises responses, embedding JSON bodies as they are', () => {
    assert.equal(
      serializeJsonBatch([
        { id: '1', status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"n":12345678901234567890.5}' },
        { id: '2', status: 204, headers: { ETag: 'W/"x"' }, atomicityGroup: 'g' },
        { id: '3', status: 200, headers: { 'Content-Type': 'text/plain' }, body: '42' },
      ]),
      '{"responses":[{"id":"1","status":200,"headers":{"content-type":"application/json"},"body":{"n":12345678901234567890.5}},{"id":"2","atomicityGroup":"g","status":204,"headers":{"etag":"W/\\"x\\""}},{"id":"3","status":200,"headers":{"content-type":"text/plain"},"body":"42"}]}',
    );
  });
  it('embeds Buffer bodies by media type: JSON as JSON (collection pages are Buffers), binary as base64url', () => {
    const out = JSON.parse(
      serializeJsonBatch([
        { id: 'page', status: 200, headers: { 'Content-Type': 'application/json;odata.metadata=minimal' }, body: Buffer.from('{"value":[{"id":1,"s":"ü"}]}') },
        { id: 'bin', status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([0xfb, 0xff, 0x00]) },
        { id: 'txt', status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from('ünï') },
      ]),
    ) as { responses: { id: string; body: unknown }[] };
    assert.deepEqual(out.responses.map((r) => r.body), [{ value: [{ id: 1, s: 'ü' }] }, '-_8A', 'ünï']);
  });
});
