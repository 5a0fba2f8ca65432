/**
 * Loads the configuration: reads the JSON file (config/default.json unless --config or ODATA_CONFIG names
 * another), replaces `${NAME}` in every string with the environment variable, validates the result with
 * ajv against config/schema.json and returns a frozen Config with every default applied. Any problem is a
 * ConfigError whose one-line message names the file, the field (a JSON pointer) and the problem.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Config, ExposeEntry, UserConfig } from './types.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CONFIG_FILE = path.join(projectRoot, 'config', 'default.json');
const SCHEMA_FILE = path.join(projectRoot, 'config', 'schema.json');

/** Picks the config file: `--config PATH` on the command line, else ODATA_CONFIG, else config/default.json. */
export function configPathFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const i = argv.indexOf('--config');
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return path.resolve(eq.slice('--config='.length));
  if (env['ODATA_CONFIG']) return path.resolve(env['ODATA_CONFIG']);
  return DEFAULT_CONFIG_FILE;
}

/** Replaces `${NAME}` in every string of a parsed JSON value; an unset variable becomes ''. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '');
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env);
    return out;
  }
  return value;
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  }
  return validator(doc) ? [] : [...(validator.errors ?? [])];
}

function describe(e: ErrorObject): string {
  const field = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${field}: unknown field "${String(e.params['additionalProperty'])}"`;
  if (e.keyword === 'enum') return `${field}: must be one of ${JSON.stringify(e.params['allowedValues'])}`;
  return `${field}: ${e.message ?? 'is invalid'}`;
}

/** Loads, expands, validates and normalises a config file. Throws ConfigError with a one-line message. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return configFromObject(raw, file, env);
}

/** Validates and normalises an already parsed config document (used by loadConfig and by tests). */
export function configFromObject(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = expandEnv(raw, env);
  const errors = validate(doc);
  if (errors.length > 0) {
    // Prefer the most specific error: anyOf failures report noise at the parent level.
    // Among the rest, a wrong-type complaint from a non-matching anyOf branch is the least useful.
    const specific = errors.filter((e) => e.keyword !== 'anyOf');
    const ranked = (specific.length > 0 ? specific : errors)
      .map((e, i) => ({ e, i }))
      .sort((a, b) => Number(a.e.keyword === 'type') - Number(b.e.keyword === 'type') || b.e.instancePath.length - a.e.instancePath.length || a.i - b.i);
    const first = ranked[0]!.e;
    throw new ConfigError(`${file}: ${describe(first)}`);
  }
  return normalise(doc as RawConfig, file, env);
}

interface RawExpose {
  name: string;
  entitySet?: string;
  columns?: string[];
  key?: string[];
  readOnly?: boolean;
  readOnlyColumns?: string[];
  searchable?: string[];
  versionColumn?: string;
  requireIfMatch?: boolean;
}
interface RawConfig {
  database?: { url?: string; poolSize?: number; statementTimeoutMs?: number; acquireTimeoutMs?: number; ssl?: boolean; preparedStatements?: boolean; coalesceReads?: boolean };
  server?: {
    rootPath?: string; host?: string; port?: number | string; publicUrl?: string;
    maxBodyBytes?: number; maxUrlLength?: number; maxResponseBytes?: number; trustProxy?: boolean;
  };
  namespace?: string;
  naming?: 'plain' | 'heroku';
  pageSize?: number;
  maxTop?: number;
  filterLimits?: { maxDepth?: number; maxNodes?: number };
  batch?: { maxRequests?: number };
  expose: (string | RawExpose)[];
  auth?: { open?: boolean; realm?: string; users?: { name: string; password: string; expiresAt?: string; read?: string[]; write?: string[] }[] };
  rateLimit?: { enabled?: boolean; points?: number; windowSeconds?: number; burst?: number; redisUrl?: string };
  log?: { level?: string; slowQueryMs?: number };
}

function normalise(doc: RawConfig, file: string, env: NodeJS.ProcessEnv): Config {
  const expose: ExposeEntry[] = doc.expose.map((item, i) => {
    const e: RawExpose = typeof item === 'string' ? { name: item } : item;
    const dot = e.name.indexOf('.');
    const entry: ExposeEntry = {
      schema: e.name.slice(0, dot),
      table: e.name.slice(dot + 1),
      readOnly: e.readOnly ?? false,
      readOnlyColumns: e.readOnlyColumns ?? [],
      requireIfMatch: e.requireIfMatch ?? false,
      pointer: `/expose/${i}`,
      ...(e.entitySet !== undefined ? { entitySet: e.entitySet } : {}),
      ...(e.columns !== undefined ? { columns: e.columns } : {}),
      ...(e.key !== undefined ? { key: e.key } : {}),
      ...(e.searchable !== undefined ? { searchable: e.searchable } : {}),
      ...(e.versionColumn !== undefined ? { versionColumn: e.versionColumn } : {}),
    };
    if (entry.table === '*' && (e.entitySet || e.columns || e.key || e.searchable || e.versionColumn)) {
      throw new ConfigError(`${file}: ${entry.pointer}: "${e.name}" names a whole schema; entitySet, columns, key, searchable and versionColumn need one table`);
    }
    return entry;
  });
  const users: UserConfig[] = (doc.auth?.users ?? []).map((u, i) => {
    const out: UserConfig = {
      name: u.name,
      password: u.password,
      ...(u.expiresAt !== undefined ? { expiresAt: new Date(u.expiresAt) } : {}),
      ...(u.read !== undefined ? { read: u.read } : {}),
      ...(u.write !== undefined ? { write: u.write } : {}),
    };
    if (out.password === '') throw new ConfigError(`${file}: /auth/users/${i}/password: is empty (is its environment variable set?)`);
    return out;
  });
  const portRaw = doc.server?.port ?? env['PORT'] ?? 3000;
  const port = typeof portRaw === 'number' ? portRaw : Number.parseInt(portRaw === '' ? env['PORT'] ?? '3000' : portRaw, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${file}: /server/port: must be a port number`);
  const config: Config = {
    file,
    database: {
      url: doc.database?.url ?? env['DATABASE_URL'] ?? '',
      poolSize: doc.database?.poolSize ?? 10,
      statementTimeoutMs: doc.database?.statementTimeoutMs ?? 20_000,
      acquireTimeoutMs: doc.database?.acquireTimeoutMs ?? 10_000,
      ssl: doc.database?.ssl ?? false,
      preparedStatements: doc.database?.preparedStatements ?? true,
      coalesceReads: doc.database?.coalesceReads ?? true,
    },
    server: {
      rootPath: doc.server?.rootPath ?? '/odata/v4',
      host: doc.server?.host ?? '0.0.0.0',
      port,
      ...(doc.server?.publicUrl ? { publicUrl: doc.server.publicUrl.replace(/\/$/, '') } : {}),
      maxBodyBytes: doc.server?.maxBodyBytes ?? 8 * 1024 * 1024,
      maxUrlLength: doc.server?.maxUrlLength ?? 16 * 1024,
      maxResponseBytes: doc.server?.maxResponseBytes ?? 8 * 1024 * 1024,
      trustProxy: doc.server?.trustProxy ?? false,
    },
    namespace: doc.namespace ?? 'PG',
    naming: doc.naming ?? 'plain',
    pageSize: doc.pageSize ?? 2000,
    maxTop: doc.maxTop ?? 1_000_000_000,
    filterLimits: { maxDepth: doc.filterLimits?.maxDepth ?? 50, maxNodes: doc.filterLimits?.maxNodes ?? 500 },
    batch: { maxRequests: doc.batch?.maxRequests ?? 100 },
    expose,
    auth: { open: doc.auth?.open ?? false, realm: doc.auth?.realm ?? 'OData', users },
    rateLimit: {
      enabled: doc.rateLimit?.enabled ?? true,
      points: doc.rateLimit?.points ?? 20_000,
      windowSeconds: doc.rateLimit?.windowSeconds ?? 3600,
      burst: doc.rateLimit?.burst ?? 0,
      redisUrl: doc.rateLimit?.redisUrl ?? env['REDIS_URL'] ?? '',
    },
    log: { level: doc.log?.level ?? env['LOG_LEVEL'] ?? 'info', slowQueryMs: doc.log?.slowQueryMs ?? 1000 },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !(o instanceof Date)) {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
