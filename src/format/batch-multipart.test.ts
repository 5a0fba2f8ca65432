/**
 * The multipart/mixed $batch format: parsing requests and change sets (CRLF and bare LF), Content-ID,
 * malformed input, and the exact serialisation of responses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ODataError } from '../errors/odata-error.js';
import { boundaryOf, parseMultipartBatch, serializeMultipartBatch } from './batch-multipart.js';

const BODY = [
  'preamble',
  '--b1',
  'Content-Type: application/http',
  'Content-Transfer-Encoding: binary',
  '',
  'GET item(1) HTTP/1.1',
  'Accept: application/json',
  '',
  '',
  '--b1',
  'Content-Type: multipart/mixed; boundary="cs1"',
  '',
  '--cs1',
  'Content-Type: application/http',
  'Content-Transfer-Encoding: binary',
  'Content-ID: 1',
  '',
  'POST item HTTP/1.1',
  'Content-Type: application/json',
  '',
  '{"name":"a\\r\\nb"}',
  '--cs1',
  'Content-Type: application/http',
  'Content-ID: 2',
  '',
  'DELETE $1 HTTP/1.1',
  '',
  '',
  '--cs1--',
  '--b1--',
  'epilogue',
].join('\r\n');

describe('multipart batch parsing', () => {
  it('reads the boundary parameter', () => {
    assert.equal(boundaryOf('multipart/mixed; boundary=batch_1'), 'batch_1');
    assert.equal(boundaryOf('multipart/mixed;boundary="a b"'), 'a b');
    assert.equal(boundaryOf('multipart/mixed'), undefined);
  });
  it('parses requests and change sets', () => {
    const units = parseMultipartBatch(BODY, 'b1');
    assert.equal(units.length, 2);
    const [u1, u2] = units;
    assert.equal(u1!.kind, 'request');
    if (u1!.kind !== 'request' || u2!.kind !== 'changeset') throw new Error('shape');
    assert.equal(u1.request.method, 'GET');
    assert.equal(u1.request.url, 'item(1)');
    assert.equal(u1.request.headers.get('accept'), 'application/json');
    assert.equal(u1.request.body, '');
    assert.deepEqual(u2.requests.map((r) => [r.method, r.url, r.contentId, r.body]), [['POST', 'item', '1', '{"name":"a\\r\\nb"}'], ['DELETE', '$1', '2', '']]);
  });
  it('tolerates bare LF line endings', () => {
    const units = parseMultipartBatch(BODY.replace(/\r\n/g, '\n'), 'b1');
    assert.equal(units.length, 2);
  });
  it('refuses a missing closing delimiter, a part that is not application/http, a bad request line', () => {
    assert.throws(() => parseMultipartBatch('--b1\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n', 'b1'), ODataError);
    assert.throws(() => parseMultipartBatch('--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--', 'b1'), ODataError);
    assert.throws(() => parseMultipartBatch('--b1\r\nContent-Type: application/http\r\n\r\nnot a request line at all\r\n--b1--', 'b1'), ODataError);
  });
});

describe('multipart batch serialisation', () => {
  it('writes responses and change set responses', () => {
    const { body, contentType } = serializeMultipartBatch(
      [
        { kind: 'response', response: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' } },
        { kind: 'changeset', responses: [{ status: 204, headers: {}, contentId: '1' }] },
      ],
      (k) => `${k}_X`,
    );
    assert.equal(contentType, 'multipart/mixed; boundary=batchresponse_X');
    assert.equal(
      body.toString(),
      [
        '--batchresponse_X',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        'HTTP/1.1 200 OK',
        'Content-Type: application/json',
        '',
        '{}',
        '--batchresponse_X',
        'Content-Type: multipart/mixed; boundary=changesetresponse_X',
        '',
        '--changesetresponse_X',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        'Content-ID: 1',
        '',
        'HTTP/1.1 204 No Content',
        '',
        '',
        '--changesetresponse_X--',
        '',
        '--batchresponse_X--',
        '',
      ].join('\r\n'),
    );
  });
});
