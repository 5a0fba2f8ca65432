/**
 * Holds the current catalog snapshot. load() introspects in one read-only transaction and swaps the
 * snapshot atomically; readers take `current` once per request. Until the first load succeeds,
 * `current` is undefined and the HTTP layer answers 503.
 */
import type { Config } from '../config/types.js';
import type { Db } from '../db/pool.js';
import { buildCatalog } from './build.js';
import { introspect } from './introspect.js';
import type { Catalog } from './types.js';

export class CatalogStore {
  private snapshot: Catalog | undefined;
  constructor(private readonly db: Db, private config: Config) {}

  get current(): Catalog | undefined {
    return this.snapshot;
  }

  /** Introspects the database and swaps in the new snapshot; throws (leaving the old one) on failure. */
  async load(config: Config = this.config): Promise<Catalog> {
    const schemas = [...new Set(config.expose.map((e) => e.schema))];
    const raw = await this.db.transaction('read only', (tx) => introspect(tx, schemas));
    const catalog = buildCatalog(raw, config);
    this.config = config;
    this.snapshot = catalog;
    return catalog;
  }
}
