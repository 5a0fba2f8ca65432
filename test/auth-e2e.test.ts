/**
 * Issue 5, authentication through HTTP: the Basic matrix (no header, malformed, unknown user, wrong
 * password, expired, rotation with two live credentials, a `${ENV}` plain secret and an scrypt hash), the
 * challenge and OData error body on every 401, per-set permissions (read -> 404 and invisible in the
 * service document and $metadata; write -> 403), /healthz without credentials, no secret in any log line,
 * and `npm run hash-password`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createTestDb, type TestDb } from './helpers/db.js';
import { configFromObject } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { startServer, type RunningServer } from '../src/server.js';
import { hashPassword, verifyPassword } from '../src/auth/password.js';

const FIXTURE = `
create table public.account (id int primary key, name text not null);
create table public.orders (id int primary key, total int);
insert into public.account values (1, 'Acme'), (2, 'Globex');
insert into public.orders values (10, 100), (11, 200);
`;

const rnd = (): string => randomBytes(16).toString('hex');
// Every secret of this file; none may ever show up in a log line.
const PW = { env: rnd(), hashed: rnd(), rotOld: rnd(), rotNew: rnd(), expired: rnd(), reader: rnd(), writer: rnd() };
const future = new Date(Date.now() + 3600_000).toISOString();
const past = new Date(Date.now() - 3600_000).toISOString();

let db: TestDb;
let server: RunningServer;
let root: string;
const logs: string[] = [];

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
let ipSeq = 0;
/** Each request comes from its own address (trustProxy), so the failure throttle never delays the suite. */
function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  ipSeq++;
  return fetch(/^https?:/.test(path) ? path : root + path, { headers: { 'X-Forwarded-For': `10.9.${ipSeq >> 8}.${ipSeq & 255}`, ...headers } });
}

before(async () => {
  db = await createTestDb(FIXTURE);
  const hashed = await hashPassword(PW.hashed);
  // ${ENV} expansion is the loader's: the plain secret arrives through the environment given here.
  const config = configFromObject(
    {
      database: { url: db.url },
      server: { rootPath: '/odata/v4', trustProxy: true },
      expose: ['public.account', 'public.orders'],
      auth: {
        realm: 'Test Realm',
        users: [
          { name: 'envuser', password: '${ENV_USER_PW}' },
          { name: 'hashuser', password: hashed },
          { name: 'rot', password: PW.rotOld, expiresAt: future },
          { name: 'rot', password: PW.rotNew },
          { name: 'gone', password: PW.expired, expiresAt: past },
          { name: 'reader', password: PW.reader, read: ['account'], write: [] },
          { name: 'writer', password: PW.writer, read: ['account', 'orders'], write: ['account'] },
        ],
      },
      rateLimit: { enabled: false },
      log: { level: 'debug' },
    },
    'auth-e2e.json',
    { ENV_USER_PW: PW.env },
  );
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  server = await startServer(config, { logger: createLogger(config.log.level, sink), port: 0 });
  root = `http://127.0.0.1:${server.port}/odata/v4/`;
});

after(async () => {
  await server?.stop(2000);
  await db?.drop();
});

async function expectUnauthorized(res: Response, message: RegExp): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, 401, text);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Test Realm", charset="UTF-8"');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'Unauthorized');
  assert.match(body.error.message, message);
  for (const s of Object.values(PW)) assert.ok(!text.includes(s), 'no secret in the body');
}

describe('authentication matrix', () => {
  it('401 with the challenge when there is no Authorization header', async () => {
    await expectUnauthorized(await get('account'), /Authentication required/);
    await expectUnauthorized(await get(''), /Authentication required/);
    await expectUnauthorized(await get('$metadata'), /Authentication required/);
  });

  it('401 for malformed headers', async () => {
    const bad = [
      'Basic',
      'Basic !!!notbase64',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Bearer ${rnd()}`,
      `Basic ${Buffer.from(':empty-user').toString('base64')}`,
      `Basic ${Buffer.from([0xc3, 0x28, 0x3a, 0x61]).toString('base64')}`, // invalid UTF-8
      `Basic ${'A'.repeat(5000)}`,
    ];
    for (const h of bad) await expectUnauthorized(await get('account', { Authorization: h }), /Invalid credentials/);
  });

  it('401 for an unknown user and for a wrong password (same message)', async () => {
    await expectUnauthorized(await get('account', { Authorization: basic('nobody', PW.env) }), /^Invalid credentials$/);
    await expectUnauthorized(await get('account', { Authorization: basic('envuser', PW.hashed) }), /^Invalid credentials$/);
    await expectUnauthorized(await get('account', { Authorization: basic('hashuser', `${PW.hashed}x`) }), /^Invalid credentials$/);
    // The scrypt hash itself is not a password.
    const hashLine = (await hashPassword('x')).slice(0, 10);
    await expectUnauthorized(await get('account', { Authorization: basic('hashuser', hashLine) }), /^Invalid credentials$/);
  });

  it('401 "Credential expired" for a credential past its expiresAt', async () => {
    await expectUnauthorized(await get('account', { Authorization: basic('gone', PW.expired) }), /Credential expired/);
  });

  it('accepts a plain ${ENV} secret and an scrypt hash', async () => {
    for (const auth of [basic('envuser', PW.env), basic('hashuser', PW.hashed)]) {
      const res = await get('account?$orderby=id', { Authorization: auth });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { value: { id: number }[] };
      assert.deepEqual(body.value.map((r) => r.id), [1, 2]);
      // Second time from the verified cache.
      assert.equal((await get('account', { Authorization: auth })).status, 200);
    }
    // The scheme is case-insensitive.
    const lower = basic('envuser', PW.env).replace('Basic', 'basic');
    assert.equal((await get('account', { Authorization: lower })).status, 200);
  });

  it('rotation: the old credential (expiring later) and the new one both work', async () => {
    assert.equal((await get('account', { Authorization: basic('rot', PW.rotOld) })).status, 200);
    assert.equal((await get('account', { Authorization: basic('rot', PW.rotNew) })).status, 200);
    await expectUnauthorized(await get('account', { Authorization: basic('rot', PW.expired) }), /^Invalid credentials$/);
  });

  it('/healthz answers without credentials', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});

describe('permissions', () => {
  const reader = (): string => basic('reader', PW.reader);
  const writer = (): string => basic('writer', PW.writer);

  it('a set the user may not read is 404, exactly like a set that does not exist', async () => {
    const res = await get('orders', { Authorization: reader() });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 404);
    assert.equal(body.error.code, 'EntitySetNotFound');
    const none = (await (await get('nosuchset', { Authorization: reader() })).json()) as { error: { code: string; message: string } };
    assert.equal(body.error.message.replace('orders', 'X'), none.error.message.replace('nosuchset', 'X'));
    for (const p of ['orders(10)', 'orders(10)/total', 'orders/$count', 'orders?$filter=total gt 1']) {
      const r = await get(p, { Authorization: reader() });
      assert.equal(r.status, 404, p);
      const t = await r.text();
      assert.ok(!t.includes('100') && !t.includes('200'), `${p}: no data of orders`);
    }
    assert.equal((await get('account(1)', { Authorization: reader() })).status, 200);
  });

  it('the set is absent from that user\'s service document and $metadata', async () => {
    const doc = (await (await get('', { Authorization: reader() })).json()) as { value: { name: string }[] };
    assert.deepEqual(doc.value.map((v) => v.name), ['account']);
    const xml = await (await get('$metadata', { Authorization: reader() })).text();
    assert.match(xml, /EntitySet Name="account"/);
    assert.doesNotMatch(xml, /orders/);
    const json = await (await get('$metadata?$format=json', { Authorization: reader() })).text();
    assert.doesNotMatch(json, /orders/);
    // A user with both sets sees both (and the cached $metadata of the reader does not leak to them).
    const full = await (await get('$metadata', { Authorization: writer() })).text();
    assert.match(full, /EntitySet Name="orders"/);
    const doc2 = (await (await get('', { Authorization: writer() })).json()) as { value: { name: string }[] };
    assert.deepEqual(doc2.value.map((v) => v.name).sort(), ['account', 'orders']);
    const again = await (await get('$metadata', { Authorization: reader() })).text();
    assert.doesNotMatch(again, /orders/);
  });

  it('a write to a set the user may read but not write is 403 and changes nothing', async () => {
    const attempts: [string, string, unknown][] = [
      ['POST', 'orders', { id: 12, total: 1 }],
      ['PATCH', 'orders(10)', { total: 1 }],
      ['PUT', 'orders(10)', { id: 10, total: 1 }],
      ['DELETE', 'orders(10)', undefined],
    ];
    const send = (auth: string, method: string, p: string, body?: unknown): Promise<Response> =>
      fetch(root + p, {
        method,
        headers: { Authorization: auth, 'Content-Type': 'application/json', 'X-Forwarded-For': '10.8.0.1' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    for (const [method, p, body] of attempts) {
      const res = await send(writer(), method, p, body);
      const text = await res.text();
      assert.equal(res.status, 403, `${method} ${p}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'Forbidden');
      // Tunnelled through POST + X-HTTP-Method: the same.
      if (method !== 'POST') {
        const t = await fetch(root + p, {
          method: 'POST',
          headers: { Authorization: writer(), 'Content-Type': 'application/json', 'X-HTTP-Method': method },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        assert.equal(t.status, 403, `tunnelled ${method}: ${await t.text()}`);
      }
    }
    // What the writer may write, it can.
    const ok = await send(writer(), 'PATCH', 'account(2)', { name: 'Globex' });
    assert.ok(ok.status === 204 || ok.status === 200, await ok.text());
    // A reader with `write: []` may not write what it reads either.
    const r = await send(reader(), 'PATCH', 'account(1)', { name: 'Hacked' });
    assert.equal(r.status, 403, await r.text());
    // Unreadable set: 404 for writes too (it does not exist for this user), for every method.
    for (const [method, p, body] of attempts) {
      const hidden = await send(reader(), method, p, body);
      const text = await hidden.text();
      assert.equal(hidden.status, 404, `${method} ${p}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'EntitySetNotFound');
    }
    assert.deepEqual(await db.query('select id, total from public.orders order by id'), [
      { id: 10, total: 100 },
      { id: 11, total: 200 },
    ]);
    assert.deepEqual(await db.query('select id, name from public.account order by id'), [
      { id: 1, name: 'Acme' },
      { id: 2, name: 'Globex' },
    ]);
  });

  it('$batch applies the same permissions to every inner request', async () => {
    const batch = async (auth: string, requests: unknown[]): Promise<{ status: number; responses: { id: string; status: number; body?: { error?: { code: string } } }[] }> => {
      const res = await fetch(`${root}$batch`, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json', Prefer: 'odata.continue-on-error' },
        body: JSON.stringify({ requests }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return { status: res.status, ...(JSON.parse(text) as { responses: { id: string; status: number }[] }) };
    };
    const r1 = await batch(reader(), [
      { id: '1', method: 'GET', url: 'orders' },
      { id: '2', method: 'GET', url: 'account(1)' },
      { id: '3', method: 'DELETE', url: 'orders(10)' },
      { id: '4', method: 'PATCH', url: 'account(1)', body: { name: 'Hacked' } },
      { id: '5', method: 'GET', url: '$metadata' },
    ]);
    const byId = new Map(r1.responses.map((r) => [r.id, r]));
    for (const [id, status] of [['1', 404], ['2', 200], ['3', 404], ['4', 403], ['5', 200]] as const) {
      assert.equal(byId.get(id)?.status, status, `inner ${id}: ${JSON.stringify(r1.responses)}`);
    }
    assert.equal(byId.get('1')?.body?.error?.code, 'EntitySetNotFound');
    // The inner $metadata is the reader's.
    assert.match(JSON.stringify(byId.get('5')), /account/);
    assert.doesNotMatch(JSON.stringify(byId.get('5')), /orders/);
    const r2 = await fetch(`${root}$batch`, {
      method: 'POST',
      headers: { Authorization: writer(), 'Content-Type': 'application/json', Accept: 'application/json', Prefer: 'odata.continue-on-error' },
      body: JSON.stringify({
        requests: [
          { id: 'a', method: 'POST', url: 'orders', body: { id: 13, total: 1 } },
          { id: 'b', method: 'DELETE', url: 'orders(11)', atomicityGroup: 'g' },
          { id: 'c', method: 'GET', url: 'orders(10)' },
        ],
      }),
    });
    const t2 = await r2.text();
    assert.equal(r2.status, 200, t2);
    const res2 = new Map((JSON.parse(t2) as { responses: { id: string; status: number }[] }).responses.map((r) => [r.id, r.status]));
    assert.equal(res2.get('a'), 403, t2);
    assert.equal(res2.get('b'), 403, t2);
    assert.equal(res2.get('c'), 200, t2);
    // A batch without credentials is refused as a whole.
    const anon = await fetch(`${root}$batch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: 'orders' }] }) });
    await expectUnauthorized(anon, /Authentication required/);
    assert.deepEqual(await db.query('select id from public.orders order by id'), [{ id: 10 }, { id: 11 }]);
  });
});

describe('client address behind a proxy', () => {
  it('is the right-most X-Forwarded-For entry, the one the proxy appended: a client cannot pick its own', async () => {
    const r = await fetch(`${root}orders`, { headers: { Authorization: basic('nobody-xff', 'wrong'), 'X-Forwarded-For': '203.0.113.77, 10.250.1.2' } });
    assert.equal(r.status, 401);
    await r.text();
    const line = logs.find((l) => l.includes('"auth.failed"') && l.includes('nobody-xff'));
    assert.ok(line, 'the failure is logged');
    assert.equal((JSON.parse(line) as { ip: string }).ip, '10.250.1.2');
  });

  it('a Host header that is not a host name is a 400, never echoed into links', async () => {
    const port = new URL(root).port;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/odata/v4/orders', headers: { Host: 'evil.example"><script>', Authorization: basic('writer', PW.writer) } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 400);
    assert.doesNotMatch(res.body, /evil|script/);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'BadRequest');
  });
});

describe('logs and tooling', () => {
  it('no secret (nor an Authorization header) appears in any log line', () => {
    assert.ok(logs.length > 10, 'the server logged');
    assert.ok(logs.some((l) => l.includes('"auth.failed"')), 'failures are logged');
    assert.ok(logs.some((l) => l.includes('"auth.expired"') && l.includes('"gone"')), 'expiry logged with the user');
    for (const line of logs) {
      for (const [k, s] of Object.entries(PW)) assert.ok(!line.includes(s), `secret ${k} in log: ${line}`);
      assert.ok(!/Basic [A-Za-z0-9+/]{8,}/i.test(line), `Authorization header in log: ${line}`);
      for (const s of Object.values(PW)) assert.ok(!line.includes(Buffer.from(s).toString('base64').slice(0, 20)), 'no base64 of a secret');
    }
  });

  it('`npm run hash-password -- <secret>` prints a hash that verifies', async () => {
    const secret = `pw-${rnd()}`;
    const out = execFileSync('npm', ['run', '-s', 'hash-password', '--', secret], { encoding: 'utf8' }).trim();
    assert.match(out, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.ok(!out.includes(secret));
    assert.equal(await verifyPassword(out, secret), true);
    assert.equal(await verifyPassword(out, `${secret}x`), false);
    // stdin form (keeps the password out of the shell history)
    const viaStdin = execFileSync('npm', ['run', '-s', 'hash-password'], { encoding: 'utf8', input: `${secret}\n` }).trim();
    assert.equal(await verifyPassword(viaStdin, secret), true);
    assert.notEqual(viaStdin, out, 'salted');
  });
});
