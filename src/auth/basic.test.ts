import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBasic } from './basic.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

test('parses Basic user:password, scheme in any case', () => {
  assert.deepEqual(parseBasic(`Basic ${b64('alice:pw')}`), { ok: true, name: 'alice', password: 'pw' });
  assert.deepEqual(parseBasic(`bAsIc   ${b64('alice:pw')}`), { ok: true, name: 'alice', password: 'pw' });
});

test('splits at the first colon: the password may contain colons, or be empty', () => {
  assert.deepEqual(parseBasic(`Basic ${b64('alice:a:b::c')}`), { ok: true, name: 'alice', password: 'a:b::c' });
  assert.deepEqual(parseBasic(`Basic ${b64('alice:')}`), { ok: true, name: 'alice', password: '' });
});

test('decodes UTF-8', () => {
  assert.deepEqual(parseBasic(`Basic ${b64('jürgen:pässwörd✓')}`), { ok: true, name: 'jürgen', password: 'pässwörd✓' });
});

test('accepts base64 without padding', () => {
  const t = b64('ab:c'); // "YWI6Yw=="
  assert.deepEqual(parseBasic(`Basic ${t.replace(/=+$/, '')}`), { ok: true, name: 'ab', password: 'c' });
});

test('missing', () => {
  assert.deepEqual(parseBasic(undefined), { ok: false, reason: 'missing' });
  assert.deepEqual(parseBasic(''), { ok: false, reason: 'missing' });
  assert.deepEqual(parseBasic('   '), { ok: false, reason: 'missing' });
});

test('malformed: wrong scheme, bad base64, no colon, empty user, invalid UTF-8, control characters', () => {
  const cases = [
    `Bearer ${b64('alice:pw')}`,
    'Basic',
    'Basic ',
    `Basic${b64('alice:pw')}`,
    'Basic !!!!',
    'Basic YWxpY2U6cHc=garbage',
    'Basic YWxpY2U6cH=',
    'Basic YWxpY2U6c',
    `Basic ${b64('alice:pw')} extra`,
    `Basic ${b64('alicepw')}`,
    `Basic ${b64(':pw')}`,
    `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`,
    `Basic ${b64('alice:p\nw')}`,
    `Basic ${'A'.repeat(5000)}`,
  ];
  for (const c of cases) assert.deepEqual(parseBasic(c), { ok: false, reason: 'malformed' }, c);
});
