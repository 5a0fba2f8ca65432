import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { App, type Middleware } from '../http/kernel.js';
import { ODataError } from '../errors/odata-error.js';
import { createLogger } from '../log.js';
import type { Config } from '../config/types.js';
import { authMiddleware } from '../http/auth-middleware.js';
import { hashPassword } from './password.js';
import type { AuthUser } from './user.js';

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`, 'utf8').toString('base64')}`;

function capture(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[]; raw: () => string } {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('debug', dest), lines, raw: () => raw };
}

async function serve(mw: Middleware): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new App();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      if (!(e instanceof ODataError)) throw e;
      ctx.status = e.status;
      if (e.headers) ctx.set(e.headers as Record<string, string>);
      ctx.body = e.toJSON();
    }
  });
  app.use(mw);
  app.use((ctx) => {
    const u = ctx.state.user as AuthUser | undefined;
    ctx.body = { user: u?.name ?? null, canReadA: u?.canRead('A') ?? null };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const authConfig = async (): Promise<Config['auth']> => ({
  open: false,
  realm: 'Parts',
  users: [
    { name: 'alice', password: await hashPassword('s3cret:pw'), read: ['A'] },
    { name: 'old', password: 'gone', expiresAt: new Date(Date.now() - 1000) },
    { name: 'bob', password: 'bob-secret-123' },
  ],
});

test('open mode: everyone is anonymous with all access', async () => {
  const { logger } = capture();
  const s = await serve(authMiddleware({ auth: { open: true, realm: 'x', users: [] }, logger }));
  try {
    const r = await fetch(s.url);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { user: 'anonymous', canReadA: true });
  } finally {
    await s.close();
  }
});

test('401 with the challenge for missing, wrong and expired credentials; 200 with the user otherwise', async () => {
  const log = capture();
  const s = await serve(authMiddleware({ auth: await authConfig(), logger: log.logger }));
  try {
    const challenge = 'Basic realm="Parts", charset="UTF-8"';
    const missing = await fetch(s.url);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), challenge);
    assert.deepEqual(await missing.json(), { error: { code: 'Unauthorized', message: 'Authentication required' } });

    const wrong = await fetch(s.url, { headers: { authorization: basic('alice', 'guess-xyz') } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), challenge);
    assert.equal(((await wrong.json()) as { error: { message: string } }).error.message, 'Invalid credentials');

    const expired = await fetch(s.url, { headers: { authorization: basic('old', 'gone') } });
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as { error: { message: string } }).error.message, 'Credential expired');

    const ok = await fetch(s.url, { headers: { authorization: basic('alice', 's3cret:pw') } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { user: 'alice', canReadA: true });

    const failed = log.lines.find((l) => l['event'] === 'auth.failed' && l['reason'] === 'wrong_password');
    assert.ok(failed);
    assert.equal(failed['user'], 'alice');
    assert.equal(failed['ip'], '127.0.0.1');
    assert.ok(log.lines.some((l) => l['event'] === 'auth.expired' && l['user'] === 'old'));
    assert.ok(!log.raw().includes('guess-xyz'), 'the password never reaches the log');
    assert.ok(!log.raw().includes(Buffer.from('alice:guess-xyz').toString('base64')), 'nor the header');
  } finally {
    await s.close();
  }
});

test('failure slowdown: failed answers are delayed after 5 failures, a good credential is not; lockout answers 429', async () => {
  const log = capture();
  const s = await serve(
    authMiddleware({ auth: await authConfig(), logger: log.logger, throttle: { freeFailures: 2, baseDelayMs: 150, maxDelayMs: 300, lockoutFailures: 5 } }),
  );
  const timed = async (h: string): Promise<[number, number]> => {
    const t = performance.now();
    const r = await fetch(s.url, { headers: { authorization: h } });
    await r.arrayBuffer();
    return [r.status, performance.now() - t];
  };
  try {
    // Verify once so the good credential is cached before the address gets locked.
    assert.equal((await timed(basic('alice', 's3cret:pw')))[0], 200);
    const bad = basic('alice', 'nope');
    const [s1, d1] = await timed(bad);
    const [s2, d2] = await timed(bad);
    const [s3, d3] = await timed(bad); // third failure: delayed 150 ms
    assert.deepEqual([s1, s2, s3], [401, 401, 401]);
    assert.ok(d1 < 140 && d2 < 140, `${d1} ${d2}`);
    assert.ok(d3 >= 145, `${d3}`);
    const [s4, d4] = await timed(bad); // fourth: 300 ms (capped)
    assert.equal(s4, 401);
    assert.ok(d4 >= 295, `${d4}`);
    await timed(bad); // fifth failure reaches the lockout
    const locked = await fetch(s.url, { headers: { authorization: bad } });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.ok(log.lines.some((l) => l['event'] === 'auth.throttled'));
    const [sOk, dOk] = await timed(basic('alice', 's3cret:pw'));
    assert.equal(sOk, 200, 'a credential that already verified still passes');
    assert.ok(dOk < 140);
    // the lockout is of that user name from this address: another user here, never verified before, passes
    const other = await fetch(s.url, { headers: { authorization: basic('bob', 'bob-secret-123') } });
    assert.equal(other.status, 200, 'a shared address (Salesforce egress, a NAT) is not locked for everyone');
  } finally {
    await s.close();
  }
});

test('public paths skip authentication', async () => {
  const { logger } = capture();
  const s = await serve(authMiddleware({ auth: await authConfig(), logger, publicPaths: (p) => p === '/health' }));
  try {
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    assert.equal((await fetch(`${s.url}/other`)).status, 401);
  } finally {
    await s.close();
  }
});
