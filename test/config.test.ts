/**
 * Configuration and start-up: the loader's one-line errors (file, field, problem), ${ENV} expansion,
 * the config path rules, catalog errors for objects the config names, the naming modes and per-object
 * options, and the real process: exit 1 on a bad config, SIGTERM drains and exits 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, configFromObject, configPathFrom, expandEnv, loadConfig, DEFAULT_CONFIG_FILE } from '../src/config/load.js';
import { createTestDb, type TestDb } from './helpers/db.js';
import { startTestServer } from './helpers/server.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
function file(name: string, content: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, content);
  return f;
}

describe('config loader', () => {
  it('names the file, the field and the problem in one line', () => {
    const cases: [string, RegExp][] = [
      ['{"expose": ["public.x"], "naming": "weird"}', /\/naming: must be one of \["plain","heroku"\]/],
      ['{"expose": ["public.x"], "pageSize": 0}', /\/pageSize: must be >= 1/],
      ['{"expose": ["nodot"]}', /\/expose\/0/],
      ['{"expose": []}', /\/expose: must NOT have fewer than 1 items/],
      ['{"expose": ["a.b"], "colour": 1}', /\/: unknown field "colour"/],
      ['{"expose": [{"name": "a.b", "keys": ["id"]}]}', /\/expose\/0: unknown field "keys"/],
      ['{}', /must have required property 'expose'/],
      ['{not json', /not valid JSON/],
    ];
    for (const [content, re] of cases) {
      const f = file('bad.json', content);
      assert.throws(() => loadConfig(f, {}), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.ok(e.message.startsWith(`${f}: `), e.message);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
    }
    assert.throws(() => loadConfig(path.join(tmp, 'missing.json'), {}), /cannot read the file/);
  });

  it('expands ${NAME} from the environment and applies defaults', () => {
    const c = configFromObject({ database: { url: '${DB}' }, expose: ['s.t'], auth: { users: [{ name: 'u', password: '${PW}' }] } }, 'x.json', { DB: 'postgres://h/db', PW: 'secret', PORT: '4321' });
    assert.equal(c.database.url, 'postgres://h/db');
    assert.equal(c.auth.users[0]!.password, 'secret');
    assert.equal(c.server.port, 4321);
    assert.equal(c.server.rootPath, '/odata/v4');
    assert.equal(c.pageSize, 2000);
    assert.equal(c.naming, 'plain');
    assert.equal(c.database.statementTimeoutMs, 20000);
    assert.equal(c.database.preparedStatements, true);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.expose));
    assert.deepEqual(expandEnv({ a: ['${X}-${Y}'] }, { X: '1' }), { a: ['1-'] });
    assert.throws(() => configFromObject({ expose: ['s.t'], auth: { users: [{ name: 'u', password: '${UNSET}' }] } }, 'x.json', {}), /\/auth\/users\/0\/password: is empty/);
  });

  it('chooses --config, then ODATA_CONFIG, then config/default.json', () => {
    assert.equal(configPathFrom(['--config', 'a.json'], { ODATA_CONFIG: 'b.json' }), path.resolve('a.json'));
    assert.equal(configPathFrom([], { ODATA_CONFIG: 'b.json' }), path.resolve('b.json'));
    assert.equal(configPathFrom([], {}), DEFAULT_CONFIG_FILE);
    const demo = loadConfig(DEFAULT_CONFIG_FILE, {});
    assert.equal(demo.database.url, '');
    assert.equal(demo.expose.length, 4);
  });
});

describe('catalog options against a database', () => {
  let db: TestDb;
  before(async () => {
    db = await createTestDb(`
      create table public.person (id serial primary key, name varchar(40) not null, secret text, age int);
      insert into public.person (name, secret, age) values ('ann', 's1', 30), ('bob', 's2', null);
      create view public.person_v as select id as pid, name from public.person;`);
  });
  after(async () => db?.drop());

  it('stops the start when a configured object does not exist', async () => {
    await assert.rejects(startTestServer(db.url, { expose: ['public.person', 'public.nothing'] }), /test-config.json: \/expose\/1: table or view "public.nothing" does not exist/);
    await assert.rejects(startTestServer(db.url, { expose: [{ name: 'public.person', columns: ['id', 'nope'] }] }), /\/expose\/0: column "nope" does not exist/);
    await assert.rejects(startTestServer(db.url, { expose: ['public.person_v'] }), /\/expose\/0: public.person_v: key column "id" is not an exposed column/);
    await assert.rejects(startTestServer(db.url, { expose: ['nope.*'] }), /schema "nope" has no tables/);
  });

  it('applies entity set names, column allow-lists, view keys and read-only flags', async () => {
    const srv = await startTestServer(db.url, {
      expose: [
        { name: 'public.person', entitySet: 'People', columns: ['id', 'name', 'age'], readOnly: true },
        { name: 'public.person_v', key: ['pid'] },
      ],
    });
    try {
      const md = await (await srv.get('$metadata')).text();
      assert.match(md, /<EntitySet Name="People" EntityType="PG.People">/);
      assert.ok(!md.includes('secret'));
      assert.match(md, /<EntitySet Name="People"[^>]*><Annotation Term="Capabilities.InsertRestrictions">/);
      assert.match(md, /<EntityType Name="person_v"><Key><PropertyRef Name="pid"\/><\/Key>/);
      const people = (await (await srv.get('People')).json()) as { value: Record<string, unknown>[] };
      assert.deepEqual(people.value.map((p) => Object.keys(p).filter((k) => !k.startsWith('@'))), [['id', 'name', 'age'], ['id', 'name', 'age']]);
      const res = await srv.get('People(1)/secret');
      assert.equal(res.status, 404);
      assert.equal(((await srv.get('person_v(2)').then((r) => r.json())) as Record<string, unknown>)['name'], 'bob');
      const del = await srv.request('DELETE', 'People(1)');
      assert.equal(del.status, 405);
      assert.equal(del.headers.get('allow'), 'GET, HEAD');
    } finally {
      await srv.stop();
    }
  });

  it('reloads a new configuration in place: exposed objects and users change, connections stay', async () => {
    const srv = await startTestServer(db.url, { expose: ['public.person'] });
    try {
      assert.equal((await srv.get('person_v')).status, 404);
      const next = configFromObject(
        { database: { url: db.url }, expose: ['public.person', { name: 'public.person_v', key: ['pid'] }], auth: { users: [{ name: 'eve', password: 'pw' }] }, rateLimit: { enabled: false } },
        'reloaded.json',
        {},
      );
      await srv.server.reload(next);
      assert.equal((await srv.get('person_v')).status, 401, 'the new config requires credentials');
      const auth = { Authorization: `Basic ${Buffer.from('eve:pw').toString('base64')}` };
      const res = await srv.get('person_v(1)', auth);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Record<string, unknown>)['name'], 'ann');
      assert.ok(srv.logs.some((l) => l.includes('"config.reloaded"')));
    } finally {
      await srv.stop();
    }
  });

  it('serves with prepared statements turned off (for transaction-mode poolers)', async () => {
    const srv = await startTestServer(db.url, { expose: ['public.person'], database: { url: db.url, preparedStatements: false } });
    try {
      assert.equal(srv.config.database.preparedStatements, false);
      for (let i = 0; i < 3; i++) {
        const res = await srv.get('person?$filter=age gt 1');
        assert.equal(res.status, 200);
        assert.deepEqual(((await res.json()) as { value: { name: string }[] }).value.map((p) => p.name), ['ann']);
      }
    } finally {
      await srv.stop();
    }
  });

  it('names entity sets schema$table in heroku naming mode', async () => {
    const srv = await startTestServer(db.url, { expose: ['public.person'], naming: 'heroku' });
    try {
      const sd = (await (await srv.get('')).json()) as { value: { name: string; url: string }[] };
      assert.deepEqual(sd.value.map((v) => v.name), ['public$person']);
      const one = (await (await srv.get('public$person(1)')).json()) as Record<string, unknown>;
      assert.equal(one['name'], 'ann');
      assert.equal(one['@odata.context'], `${srv.root}$metadata#public$person/$entity`);
      const md = await (await srv.get('$metadata')).text();
      assert.match(md, /<EntitySet Name="public\$person" EntityType="PG.public_person"\/?>/);
      assert.match(md, /<Property Name="secret" Type="Edm.String" MaxLength="32000"\/>/, 'text declared as LongTextArea(32000) like Heroku');
    } finally {
      await srv.stop();
    }
  });
});

describe('the process', () => {
  const main = path.resolve('src/main.ts');
  function run(args: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; out: string[]; err: string[]; exit: Promise<number | null> } {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout!.on('data', (d) => out.push(String(d)));
    child.stderr!.on('data', (d) => err.push(String(d)));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    return { child, out, err, exit };
  }

  it('exits 1 with one line naming the file and field for an invalid config', async () => {
    const f = file('invalid.json', '{"expose": ["public.x"], "pageSize": "big"}');
    const p = run(['--config', f], {});
    assert.equal(await p.exit, 1);
    const text = p.err.join('');
    assert.equal(text.trim().split('\n').length, 1, text);
    assert.match(text, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: /pageSize: must be integer`));
  });

  it('refuses a config with no users unless it says the service is open', async () => {
    const f = file('nousers.json', '{"expose": ["public.x"]}');
    const p = run(['--config', f], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' });
    assert.equal(await p.exit, 1);
    assert.match(p.err.join(''), /\/auth\/users: no users are configured/);
  });

  it('serves, then stops on SIGTERM after in-flight requests, exit code 0', async () => {
    const db = await createTestDb('create table public.t (id int primary key, v text); insert into public.t select i, md5(i::text) from generate_series(1, 300000) i;');
    try {
      const f = file('ok.json', JSON.stringify({ expose: ['public.t'], auth: { open: true }, rateLimit: { enabled: false }, database: { url: '${DATABASE_URL}' } }));
      const p = run(['--config', f], { DATABASE_URL: db.url, PORT: '0' });
      const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready: ${p.out.join('')} ${p.err.join('')}`)), 30000);
        const check = (): void => {
          const line = p.out.join('').split('\n').find((l) => l.includes('"server.ready"'));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as Record<string, unknown>);
          } else setTimeout(check, 50);
        };
        check();
      });
      assert.match(String(ready['sampleQuery']), /^curl '.*\/odata\/v4\/t\?\$top=5&\$count=true'$/);
      const root = String(ready['serviceRoot']);
      const health = await fetch(new URL('/healthz', root));
      assert.equal(health.status, 200);
      const inflight = fetch(`${root}t?$orderby=v desc&$top=2000&$count=true`).then(async (r) => ({ status: r.status, body: await r.text() }));
      await new Promise((r) => setTimeout(r, 60));
      p.child.kill('SIGTERM');
      const done = await inflight;
      assert.equal(done.status, 200);
      assert.ok(done.body.endsWith(']}'), 'the in-flight response completed');
      assert.equal(await p.exit, 0);
      assert.ok(p.out.join('').includes('"server.stopped"'));
    } finally {
      await db.drop();
    }
  });
});
