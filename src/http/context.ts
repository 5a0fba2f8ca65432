/**
 * What every handler needs, gathered once at start: config, logger, database, catalog store, and the
 * secret that signs skip tokens. Passed explicitly (no globals) so tests can build apps side by side.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/types.js';
import type { CatalogStore } from '../catalog/store.js';
import type { Catalog, EntitySet } from '../catalog/types.js';
import type { Db } from '../db/pool.js';
import { ODataError } from '../errors/odata-error.js';
import type { Logger } from '../log.js';
import type { AuthUser } from '../auth/user.js';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  readonly catalog: CatalogStore;
  /** HMAC key of skip tokens: the same for every instance that shares the config and database. */
  readonly tokenSecret: string;
}

export function deriveTokenSecret(config: Config): string {
  return process.env['SKIPTOKEN_SECRET'] ?? createHash('sha256').update(`pg-odata\n${config.database.url}\n${JSON.stringify(config.expose)}`).digest('hex');
}

export function requireCatalog(store: CatalogStore): Catalog {
  const c = store.current;
  if (!c) throw new ODataError('ServiceUnavailable', 'The service is starting; the database schema is not loaded yet.', { headers: { 'Retry-After': '2' } });
  return c;
}

/** The entity sets this user may see (others behave as if they did not exist). */
export function visibleSets(catalog: Catalog, user: AuthUser | undefined): readonly EntitySet[] {
  if (!user) return catalog.entitySets;
  return catalog.entitySets.filter((s) => user.canRead(s.name));
}

export function findSet(catalog: Catalog, user: AuthUser | undefined, name: string): EntitySet {
  const set = catalog.byName.get(name);
  if (!set || (user && !user.canRead(set.name))) {
    throw new ODataError('EntitySetNotFound', `The entity set "${name.slice(0, 128)}" does not exist.`, { target: name.slice(0, 128) });
  }
  return set;
}
