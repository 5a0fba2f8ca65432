import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, parseHash, verifyPassword } from './password.js';

test('hashPassword writes scrypt$N$r$p$salt$hash with a 16-byte salt and a 32-byte key', async () => {
  const h = await hashPassword('secret');
  assert.match(h, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  const p = parseHash(h);
  assert.ok(p);
  assert.equal(p.salt.length, 16);
  assert.equal(p.hash.length, 32);
  assert.notEqual(await hashPassword('secret'), h, 'salted: two hashes differ');
});

test('verifyPassword checks hashes, unicode and colons included', async () => {
  for (const pw of ['secret', 'pä$$:wörd:with:colons', '🔑 key', '']) {
    const h = await hashPassword(pw);
    assert.equal(await verifyPassword(h, pw), true, pw);
    assert.equal(await verifyPassword(h, `${pw}x`), false, pw);
  }
});

test('NFC and NFD spellings of the same password are the same password', async () => {
  const h = await hashPassword('caf\u00e9');
  assert.equal(await verifyPassword(h, 'cafe\u0301'), true);
  assert.equal(await verifyPassword('caf\u00e9', 'cafe\u0301'), true);
});

test('a plain secret (from ${ENV}) is compared exactly', async () => {
  assert.equal(await verifyPassword('0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'), true);
  assert.equal(await verifyPassword('0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdeF'), false);
  assert.equal(await verifyPassword('abc', 'abcd'), false);
  assert.equal(await verifyPassword('abc', ''), false);
});

test('a malformed scrypt$ value never matches, not even as a plain secret', async () => {
  for (const bad of ['scrypt$', 'scrypt$16384$8$1$salt', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==', 'scrypt$16384$8$1$!!$??']) {
    assert.equal(parseHash(bad), undefined, bad);
    assert.equal(await verifyPassword(bad, bad), false, bad);
  }
});
