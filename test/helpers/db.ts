/**
 * Test databases: each test file gets a database of its own on the server named by DATABASE_URL
 * (test/run.ts sets it to an embedded PostgreSQL when the user did not), created from fixture SQL and
 * dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function adminUrl(): string {
  return process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDb {
  readonly name: string;
  readonly url: string;
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createTestDb(setupSql: string, prefix = 'odata_t'): Promise<TestDb> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = urlFor(name);
  const pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC' });
  // DROP DATABASE ... WITH (FORCE) at the end terminates any session still open: not an error here.
  pool.on('error', () => undefined);
  if (setupSql) await pool.query(setupSql);
  return {
    name,
    url,
    async query<R extends object>(text: string, values: unknown[] = []) {
      return (await pool.query<R>(text, values)).rows;
    },
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl() });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
