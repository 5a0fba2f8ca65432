/**
 * The authenticated principal handed to route handlers as `ctx.state.user`. Permissions are entity set
 * names from the config (`read` / `write`); an absent list means "all". Whether a set is writable at all
 * (a view, a readOnly entry) is decided by the handlers, so canWrite(true) is necessary, not sufficient.
 */
import type { UserConfig } from '../config/types.js';

export interface AuthUser {
  readonly name: string;
  canRead(entitySet: string): boolean;
  canWrite(entitySet: string): boolean;
}

function allowList(list: readonly string[] | undefined): (entitySet: string) => boolean {
  if (list === undefined) return () => true;
  const set = new Set(list);
  return (entitySet) => set.has(entitySet);
}

export function userFromConfig(cfg: UserConfig): AuthUser {
  return Object.freeze({ name: cfg.name, canRead: allowList(cfg.read), canWrite: allowList(cfg.write) });
}

/** The principal of `auth.open: true` (local use): may read and write everything. */
export const anonymousUser: AuthUser = Object.freeze({ name: 'anonymous', canRead: () => true, canWrite: () => true });
