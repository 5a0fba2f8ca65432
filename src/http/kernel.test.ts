/**
 * The HTTP kernel's own rules, over a real socket: what the answer carries for each kind of body and
 * status (Koa's rules, which the rest of the server and its tests were written against), the request
 * accessors with and without a trusted proxy, and the bare 500 for an error that escapes every layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { App, type Middleware } from './kernel.js';

async function serve(mws: Middleware[], opts: ConstructorParameters<typeof App>[0] = {}): Promise<{ port: number; close: () => Promise<void> }> {
  const app = new App(opts);
  for (const m of mws) app.use(m);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { connection: 'close', ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the answer follows from status and body', async () => {
  const srv = await serve([
    async (ctx) => {
      switch (ctx.path) {
        case '/text': ctx.body = 'héllo'; break;
        case '/html': ctx.body = '  <p>x</p>'; break;
        case '/bytes': ctx.body = Buffer.from([1, 2, 3]); break;
        case '/object': ctx.body = { a: 1 }; break;
        case '/typed': ctx.type = 'application/json;odata.metadata=minimal'; ctx.body = '{}'; break;
        case '/created': ctx.status = 201; ctx.body = 'made'; break;
        case '/empty': ctx.type = 'application/json'; ctx.set('ETag', 'W/"1"'); ctx.body = 'dropped'; ctx.status = 204; break;
        case '/not-modified': ctx.status = 304; break;
        case '/status-only': ctx.status = 403; break;
        case '/lines': ctx.set('Preference-Applied', 'a'); ctx.append('Preference-Applied', 'b'); ctx.body = 'x'; break;
        default: break; // nothing set: 404
      }
    },
  ]);
  try {
    const text = await call(srv.port, 'GET', '/text');
    assert.deepEqual([text.status, text.headers['content-type'], text.headers['content-length'], text.body], [200, 'text/plain; charset=utf-8', '6', 'héllo']);
    assert.equal((await call(srv.port, 'GET', '/html')).headers['content-type'], 'text/html; charset=utf-8');
    const bytes = await call(srv.port, 'GET', '/bytes');
    assert.deepEqual([bytes.headers['content-type'], bytes.headers['content-length']], ['application/octet-stream', '3']);
    const object = await call(srv.port, 'GET', '/object');
    assert.deepEqual([object.headers['content-type'], object.body], ['application/json; charset=utf-8', '{"a":1}']);
    assert.equal((await call(srv.port, 'GET', '/typed')).headers['content-type'], 'application/json;odata.metadata=minimal; charset=utf-8');
    assert.deepEqual(await call(srv.port, 'GET', '/created').then((a) => [a.status, a.body]), [201, 'made']);
    const empty = await call(srv.port, 'GET', '/empty');
    assert.deepEqual([empty.status, empty.body, empty.headers['content-type'], empty.headers['content-length'], empty.headers['etag']], [204, '', undefined, undefined, 'W/"1"']);
    assert.deepEqual(await call(srv.port, 'GET', '/not-modified').then((a) => [a.status, a.body]), [304, '']);
    const forbidden = await call(srv.port, 'GET', '/status-only');
    assert.deepEqual([forbidden.status, forbidden.body, forbidden.headers['content-type']], [403, 'Forbidden', 'text/plain; charset=utf-8']);
    assert.deepEqual(await call(srv.port, 'GET', '/nothing').then((a) => [a.status, a.body]), [404, 'Not Found']);
    assert.equal((await call(srv.port, 'GET', '/lines')).headers['preference-applied'], 'a, b');
    // HEAD: the headers of the GET, Content-Length included, and no body
    const head = await call(srv.port, 'HEAD', '/text');
    assert.deepEqual([head.status, head.headers['content-type'], head.headers['content-length'], head.body], [200, 'text/plain; charset=utf-8', '6', '']);
  } finally {
    await srv.close();
  }
});

test('middleware runs in order around next(), and errors travel outwards', async () => {
  const seen: string[] = [];
  const srv = await serve([
    async (ctx, next) => {
      seen.push('outer in');
      try {
        await next();
      } catch (e) {
        ctx.status = 418;
        ctx.body = (e as Error).message;
      }
      seen.push('outer out');
    },
    (ctx, next) => {
      seen.push('check');
      if (ctx.path === '/refuse') throw new Error('refused synchronously');
      return next();
    },
    async (ctx) => {
      seen.push('handler');
      if (ctx.path === '/fail') throw new Error('failed later');
      ctx.body = ctx.querystring;
    },
  ]);
  try {
    assert.deepEqual(await call(srv.port, 'GET', '/ok?a=1&b=%20').then((a) => [a.status, a.body]), [200, 'a=1&b=%20']);
    assert.deepEqual(seen.splice(0), ['outer in', 'check', 'handler', 'outer out']);
    assert.deepEqual(await call(srv.port, 'GET', '/refuse').then((a) => [a.status, a.body]), [418, 'refused synchronously']);
    assert.deepEqual(seen.splice(0), ['outer in', 'check', 'outer out']);
    assert.deepEqual(await call(srv.port, 'GET', '/fail').then((a) => [a.status, a.body]), [418, 'failed later']);
  } finally {
    await srv.close();
  }
});

test('an error no middleware catches is a bare 500 without the headers set so far, and is reported', async () => {
  const reported: unknown[] = [];
  const srv = await serve(
    [
      async (ctx) => {
        ctx.set('ETag', 'W/"1"');
        ctx.type = 'application/json';
        throw new Error('escaped');
      },
    ],
    { onError: (e) => reported.push(e) },
  );
  try {
    const a = await call(srv.port, 'GET', '/');
    assert.deepEqual([a.status, a.body, a.headers['etag'], a.headers['content-type']], [500, 'Internal Server Error', undefined, 'text/plain; charset=utf-8']);
    assert.equal((reported[0] as Error).message, 'escaped');
  } finally {
    await srv.close();
  }
});

test('host, protocol and client address: forwarded headers count only behind a trusted proxy', async () => {
  const show: Middleware = async (ctx) => {
    ctx.body = { host: ctx.host, protocol: ctx.protocol, ip: ctx.ip, path: ctx.path, agent: ctx.get('User-Agent'), missing: ctx.get('X-None') };
  };
  const forwarded = { 'x-forwarded-host': 'public.example, inner', 'x-forwarded-proto': 'https, http', 'x-forwarded-for': '203.0.113.9, 198.51.100.7', 'user-agent': 'test' };
  const direct = await serve([show]);
  const proxied = await serve([show], { proxy: true });
  try {
    const d = JSON.parse((await call(direct.port, 'GET', '/p%20q?x=1', forwarded)).body) as Record<string, string>;
    assert.deepEqual(d, { host: `127.0.0.1:${direct.port}`, protocol: 'http', ip: '127.0.0.1', path: '/p%20q', agent: 'test', missing: '' });
    const p = JSON.parse((await call(proxied.port, 'GET', '/', forwarded)).body) as Record<string, string>;
    // the right-most X-Forwarded-For entry is the one the proxy appended
    assert.deepEqual([p['host'], p['protocol'], p['ip']], ['public.example', 'https', '198.51.100.7']);
  } finally {
    await direct.close();
    await proxied.close();
  }
});
