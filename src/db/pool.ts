/**
 * The only importer of pg. Creates the pool with the session settings every query relies on (UTC,
 * ISO 8601 intervals, the statement timeout), runs statements and transactions, and turns database
 * errors into ODataErrors through the SQLSTATE table in sqlstate.ts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { toODataError } from './sqlstate.js';
import { ReadCoalescer } from './coalesce.js';

export interface QueryResultLike<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/** What introspection and handlers need from a connection: a parameterised query. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<QueryResultLike<R>>;
}

/** A query whose rows come back as arrays (cheaper than objects on the hot path). */
export interface ArrayQueryable {
  queryArrays(text: string, values?: readonly unknown[]): Promise<unknown[][]>;
}

export interface DbOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly ssl: boolean;
  /** Named prepared statements (off behind a transaction-mode pooler such as PgBouncer < 1.21). */
  readonly preparedStatements?: boolean;
  readonly applicationName?: string;
  /** Identical reads in flight share one execution (coalesce.ts); on unless false. */
  readonly coalesceReads?: boolean;
}

// Return int8/numeric as strings everywhere: values keep every digit (JSON for entities is built by PostgreSQL).
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => v);

/**
 * Named (prepared) statements for the Db's queries: each connection parses and plans a statement text
 * once and then only binds and executes it. The texts come from a bounded set of shapes (values are
 * always parameters); past PREPARED_MAX distinct texts, new ones run unnamed so that neither side's cache
 * grows without bound.
 *
 * Each remembered text has one query config, and each execution passes a fresh object whose prototype
 * it is, with the values as pg's second argument: pg copies a config's own properties on every query
 * (cloneQueryConfig, with property descriptors: ~3 us for four of them), and this one has none.
 */
const PREPARED_MAX = 300;
interface StatementConfig {
  readonly text: string;
  readonly rowMode: 'array';
  readonly name?: string;
}
const statements = new Map<string, StatementConfig>();
function statementConfig(text: string, prepared: boolean): pg.QueryArrayConfig {
  let cfg = prepared ? statements.get(text) : undefined;
  if (cfg === undefined) {
    if (!prepared || statements.size >= PREPARED_MAX) return { text, rowMode: 'array' };
    cfg = Object.freeze({ text, rowMode: 'array', name: `q${createHash('sha1').update(text).digest('base64url').slice(0, 20)}` });
    statements.set(text, cfg);
  }
  return Object.create(cfg) as pg.QueryArrayConfig;
}

/**
 * The first statement of every new connection: its backend allocates and frees one 4 MB block. A
 * PostgreSQL backend on glibc otherwise keeps glibc's default malloc thresholds (mmap above 128 KB,
 * trim when 128 KB are free at the top of the heap), so the memory a page's JSON needs is handed back
 * to the kernel after each query and faulted in again by the next: 5-30 page faults per query on a
 * 100-row page, ~570 on a 2,000-row page, which doubled PostgreSQL's CPU per request (docs/decisions.md).
 * Freeing one mmapped block raises that backend's thresholds to its size (glibc's dynamic threshold:
 * mmap above 4 MB, trim above 8 MB free), once per connection; a backend keeps at most that much free
 * heap. On other allocators it is one cheap statement. The session setting marks connections that ran
 * it. Best effort: a failure is ignored.
 */
const PRIME_BACKEND_SQL = "select length(repeat('x', 4194304)), set_config('pg_odata.backend_primed', 'on', false)";

async function primeBackend(client: pg.ClientBase): Promise<void> {
  try {
    await client.query(PRIME_BACKEND_SQL);
  } catch {
    /* an optimisation only: the connection is used as it is */
  }
}

export class Db implements Queryable, ArrayQueryable {
  readonly pool: pg.Pool;
  constructor(readonly options: DbOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? 'pg-odata',
      statement_timeout: options.statementTimeoutMs,
      options: '-c TimeZone=UTC -c IntervalStyle=iso_8601 -c DateStyle=ISO -c extra_float_digits=1',
      onConnect: primeBackend,
      ...(options.ssl ? { ssl: { rejectUnauthorized: false } } : {}),
    });
    // An idle client that errors (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async query<R extends object = Record<string, unknown>>(text: string, values: readonly unknown[] = []): Promise<QueryResultLike<R>> {
    try {
      const r = await this.pool.query<R>(text, values as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount };
    } catch (e) {
      throw toODataError(e);
    }
  }

  async queryArrays(text: string, values: readonly unknown[] = []): Promise<unknown[][]> {
    try {
      const r = await this.pool.query(statementConfig(text, this.options.preparedStatements !== false), values as unknown[]);
      return r.rows as unknown[][];
    } catch (e) {
      throw toODataError(e);
    }
  }

  private readonly reads = new ReadCoalescer<unknown[][]>();

  /**
   * queryArrays for a statement without side effects (a read): identical reads in flight share one
   * execution whose rows are shared, so callers must not change them (coalesce.ts).
   */
  readArrays(text: string, values: readonly unknown[] = []): Promise<unknown[][]> {
    if (this.options.coalesceReads === false) return this.queryArrays(text, values);
    return this.reads.run(text, values, () => this.queryArrays(text, values));
  }

  /** executions of readArrays statements so far (coalesced requests count once) */
  get readExecutions(): number {
    return this.reads.executions;
  }

  /** Runs fn in one transaction on one connection; rolls back on any error. */
  async transaction<T>(mode: 'read only' | 'read write', fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toODataError(e);
    }
    const tx = new Tx(client);
    try {
      await client.query(mode === 'read only' ? 'begin transaction read only' : 'begin');
      const out = await fn(tx);
      await client.query('commit');
      return out;
    } catch (e) {
      try {
        await client.query('rollback');
      } catch {
        /* the connection is broken; release(true) below discards it */
      }
      throw toODataError(e);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export class Tx implements Queryable, ArrayQueryable {
  constructor(private readonly client: pg.PoolClient) {}
  async query<R extends object = Record<string, unknown>>(text: string, values: readonly unknown[] = []): Promise<QueryResultLike<R>> {
    try {
      const r = await this.client.query<R>(text, values as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount };
    } catch (e) {
      throw toODataError(e);
    }
  }
  async queryArrays(text: string, values: readonly unknown[] = []): Promise<unknown[][]> {
    try {
      const r = await this.client.query({ text, values: values as unknown[], rowMode: 'array' });
      return r.rows as unknown[][];
    } catch (e) {
      throw toODataError(e);
    }
  }
}

/** A short-lived single client, for admin tasks (creating databases, seeding). */
export async function withClient<T>(url: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn({
      query: async <R extends object>(text: string, values: readonly unknown[] = []) => {
        const r = await client.query<R>(text, values as unknown[]);
        return { rows: r.rows, rowCount: r.rowCount };
      },
    });
  } finally {
    await client.end();
  }
}
