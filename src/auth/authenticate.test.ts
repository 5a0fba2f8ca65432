import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UserConfig } from '../config/types.js';
import { createAuthenticator } from './authenticate.js';
import { hashPassword, verifyPassword } from './password.js';

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`, 'utf8').toString('base64')}`;
const NOW = new Date('2025-06-01T12:00:00Z');
const later = (ms: number): Date => new Date(NOW.getTime() + ms);

function counting(): { verify: (s: string, g: string) => Promise<boolean>; calls: () => number } {
  let n = 0;
  return {
    verify: (s, g) => {
      n += 1;
      return verifyPassword(s, g);
    },
    calls: () => n,
  };
}

test('success, unknown user, wrong password, missing, malformed', async () => {
  const users: UserConfig[] = [{ name: 'alice', password: await hashPassword('pw:1') }];
  const auth = createAuthenticator(users);
  const ok = await auth(basic('alice', 'pw:1'), NOW);
  assert.equal(ok.ok, true);
  assert.equal(ok.ok && ok.user.name, 'alice');
  assert.deepEqual(await auth(basic('bob', 'pw:1'), NOW), { ok: false, reason: 'unknown_user', userName: 'bob' });
  assert.deepEqual(await auth(basic('alice', 'pw:2'), NOW), { ok: false, reason: 'wrong_password', userName: 'alice' });
  assert.deepEqual(await auth(undefined, NOW), { ok: false, reason: 'missing' });
  assert.deepEqual(await auth('Basic ###', NOW), { ok: false, reason: 'malformed' });
  assert.deepEqual(await auth(`Digest ${Buffer.from('alice:pw:1').toString('base64')}`, NOW), { ok: false, reason: 'malformed' });
});

test('unicode password and plain secrets from the environment', async () => {
  const auth = createAuthenticator([
    { name: 'jürgen', password: await hashPassword('Grüße✓:🔑') },
    { name: 'svc', password: 'f00dfeedf00dfeedf00dfeedf00dfeed' },
  ]);
  assert.equal((await auth(basic('jürgen', 'Grüße✓:🔑'), NOW)).ok, true);
  assert.equal((await auth(basic('svc', 'f00dfeedf00dfeedf00dfeedf00dfeed'), NOW)).ok, true);
  assert.equal((await auth(basic('svc', 'f00dfeedf00dfeedf00dfeedf00dfee'), NOW)).ok, false);
});

test('expired credential: reason expired only when it matches', async () => {
  const auth = createAuthenticator([{ name: 'old', password: 'secret-1', expiresAt: NOW }]);
  assert.deepEqual(await auth(basic('old', 'secret-1'), NOW), { ok: false, reason: 'expired', userName: 'old' });
  assert.deepEqual(await auth(basic('old', 'nope'), NOW), { ok: false, reason: 'wrong_password', userName: 'old' });
  assert.equal((await auth(basic('old', 'secret-1'), later(-1))).ok, true, 'valid until expiresAt');
});

test('rotation: old and new credential of one user both work until the old one expires', async () => {
  const expiresAt = later(10 * 60_000);
  const auth = createAuthenticator([
    { name: 'sf', password: await hashPassword('old-pw'), expiresAt, read: ['A'] },
    { name: 'sf', password: await hashPassword('new-pw'), read: ['A', 'B'] },
  ]);
  const o = await auth(basic('sf', 'old-pw'), NOW);
  const n = await auth(basic('sf', 'new-pw'), NOW);
  assert.ok(o.ok && n.ok);
  assert.equal(o.user.canRead('B'), false, 'each credential keeps its own permissions');
  assert.equal(n.user.canRead('B'), true);
  assert.deepEqual(await auth(basic('sf', 'old-pw'), later(10 * 60_000 + 1)), { ok: false, reason: 'expired', userName: 'sf' });
  assert.equal((await auth(basic('sf', 'new-pw'), later(10 * 60_000 + 1))).ok, true);
});

test('same password on two entries, one expired: the valid one wins', async () => {
  const auth = createAuthenticator([
    { name: 'u', password: 'same', expiresAt: NOW },
    { name: 'u', password: 'same' },
  ]);
  assert.equal((await auth(basic('u', 'same'), NOW)).ok, true);
});

test('permissions: absent lists mean all, present lists are exact', async () => {
  const auth = createAuthenticator([
    { name: 'all', password: 'a' },
    { name: 'some', password: 's', read: ['Orders', 'Parts'], write: ['Orders'] },
    { name: 'ro', password: 'r', write: [] },
  ]);
  const all = await auth(basic('all', 'a'), NOW);
  const some = await auth(basic('some', 's'), NOW);
  const ro = await auth(basic('ro', 'r'), NOW);
  assert.ok(all.ok && some.ok && ro.ok);
  assert.equal(all.user.canRead('X'), true);
  assert.equal(all.user.canWrite('X'), true);
  assert.equal(some.user.canRead('Parts'), true);
  assert.equal(some.user.canRead('parts'), false, 'entity set names are case-sensitive');
  assert.equal(some.user.canRead('Secret'), false);
  assert.equal(some.user.canWrite('Orders'), true);
  assert.equal(some.user.canWrite('Parts'), false);
  assert.equal(ro.user.canRead('Anything'), true);
  assert.equal(ro.user.canWrite('Anything'), false);
});

test('cache: a verified header is not re-hashed; failures are never cached', async () => {
  const c = counting();
  const auth = createAuthenticator([{ name: 'alice', password: await hashPassword('pw') }], { verify: c.verify });
  for (let i = 0; i < 50; i++) assert.equal((await auth(basic('alice', 'pw'), NOW)).ok, true);
  assert.equal(c.calls(), 1);
  assert.ok(auth.cached(basic('alice', 'pw'), NOW));
  for (let i = 0; i < 3; i++) assert.equal((await auth(basic('alice', 'bad'), NOW)).ok, false);
  assert.equal(c.calls(), 4, 'each failure verifies again');
  assert.equal(auth.cached(basic('alice', 'bad'), NOW), undefined);
});

test('cache: concurrent first requests share one verification', async () => {
  const c = counting();
  const auth = createAuthenticator([{ name: 'alice', password: await hashPassword('pw') }], { verify: c.verify });
  const rs = await Promise.all(Array.from({ length: 100 }, () => auth(basic('alice', 'pw'), NOW)));
  assert.ok(rs.every((r) => r.ok));
  assert.equal(c.calls(), 1);
});

test('cache: expiry is re-checked on every hit', async () => {
  const auth = createAuthenticator([{ name: 'tmp', password: await hashPassword('pw'), expiresAt: later(1000) }]);
  assert.equal((await auth(basic('tmp', 'pw'), NOW)).ok, true);
  assert.ok(auth.cached(basic('tmp', 'pw'), later(999)));
  assert.equal(auth.cached(basic('tmp', 'pw'), later(1000)), undefined);
  assert.deepEqual(await auth(basic('tmp', 'pw'), later(1000)), { ok: false, reason: 'expired', userName: 'tmp' });
});

test('cache: a changed password in the config means a new authenticator, and the old password fails', async () => {
  const before = createAuthenticator([{ name: 'alice', password: 'one' }]);
  assert.equal((await before(basic('alice', 'one'), NOW)).ok, true);
  const after = createAuthenticator([{ name: 'alice', password: 'two' }]);
  assert.equal((await after(basic('alice', 'one'), NOW)).ok, false);
  assert.equal((await after(basic('alice', 'two'), NOW)).ok, true);
});

test('cache is bounded (LRU)', async () => {
  const c = counting();
  const users = Array.from({ length: 5 }, (_, i) => ({ name: `u${i}`, password: `p${i}` }));
  const auth = createAuthenticator(users, { cacheSize: 3, verify: c.verify });
  for (let i = 0; i < 3; i++) await auth(basic(`u${i}`, `p${i}`), NOW);
  await auth(basic('u0', 'p0'), NOW); // u0 becomes most recent
  await auth(basic('u3', 'p3'), NOW); // evicts u1
  assert.ok(auth.cached(basic('u0', 'p0'), NOW));
  assert.equal(auth.cached(basic('u1', 'p1'), NOW), undefined);
  assert.ok(auth.cached(basic('u2', 'p2'), NOW));
  assert.ok(auth.cached(basic('u3', 'p3'), NOW));
});

test('an unknown user costs a verification too (no timing oracle for user names)', async () => {
  const c = counting();
  const auth = createAuthenticator([{ name: 'alice', password: await hashPassword('pw') }], { verify: c.verify });
  await auth(basic('mallory', 'pw'), NOW);
  assert.equal(c.calls(), 1);
});
