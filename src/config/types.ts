/**
 * The configuration as the rest of the server sees it: every default applied, every `${ENV}` expanded,
 * frozen. The file format is config/schema.json; this is its normalised, typed form.
 */

export interface ExposeEntry {
  /** PostgreSQL schema name. */
  readonly schema: string;
  /** Table or view name, or '*' for every table and view of the schema. */
  readonly table: string;
  readonly entitySet?: string;
  readonly columns?: readonly string[];
  readonly key?: readonly string[];
  readonly readOnly: boolean;
  readonly readOnlyColumns: readonly string[];
  readonly searchable?: readonly string[];
  readonly versionColumn?: string;
  readonly requireIfMatch: boolean;
  /** Where in the config file this entry stands, for error messages (e.g. "/expose/2"). */
  readonly pointer: string;
}

export interface UserConfig {
  readonly name: string;
  /** "scrypt$N$r$p$salt$hash" (see src/auth/password.ts) or a plain secret taken from the environment. */
  readonly password: string;
  readonly expiresAt?: Date;
  /** Entity set names this user may read; undefined means all exposed. */
  readonly read?: readonly string[];
  /** Entity set names this user may write; undefined means all writable. */
  readonly write?: readonly string[];
}

export interface Config {
  /** The file this config came from (for messages). */
  readonly file: string;
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
    readonly acquireTimeoutMs: number;
    readonly ssl: boolean;
    readonly preparedStatements: boolean;
    /** Identical reads in flight share one execution (src/db/coalesce.ts). */
    readonly coalesceReads: boolean;
  };
  readonly server: {
    readonly rootPath: string;
    readonly host: string;
    readonly port: number;
    readonly publicUrl?: string;
    readonly maxBodyBytes: number;
    readonly maxUrlLength: number;
    readonly maxResponseBytes: number;
    readonly trustProxy: boolean;
  };
  readonly namespace: string;
  readonly naming: 'plain' | 'heroku';
  readonly pageSize: number;
  readonly maxTop: number;
  readonly filterLimits: { readonly maxDepth: number; readonly maxNodes: number };
  readonly batch: { readonly maxRequests: number };
  readonly expose: readonly ExposeEntry[];
  readonly auth: { readonly open: boolean; readonly realm: string; readonly users: readonly UserConfig[] };
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly points: number;
    readonly windowSeconds: number;
    readonly burst: number;
    readonly redisUrl: string;
  };
  readonly log: { readonly level: string; readonly slowQueryMs: number };
}
