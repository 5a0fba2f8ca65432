/**
 * The write path: POST (create), PATCH (update), PUT (replace), DELETE and $batch. Views and read-only
 * objects answer 405 with Allow: GET, HEAD.
 */
import type { Context } from 'koa';
import type { Catalog } from '../catalog/types.js';
import { ODataError } from '../errors/odata-error.js';
import type { Urls } from '../format/json.js';
import type { ResourcePath } from '../odata/path.js';
import type { RawQuery } from '../odata/query-options.js';
import type { AuthUser } from '../auth/user.js';
import type { AppDeps } from './context.js';
import { findSet } from './context.js';

export interface WriteRequest {
  readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: ResourcePath;
  readonly raw: RawQuery;
  readonly urls: Urls;
  readonly user: AuthUser | undefined;
  readonly catalog: Catalog;
}

export async function handleWrite(_ctx: Context, _deps: AppDeps, req: WriteRequest): Promise<void> {
  const { path, user, catalog } = req;
  if (path.kind === 'metadata' || path.kind === 'serviceDocument' || path.kind === 'count') {
    throw new ODataError('MethodNotAllowed', `${req.method} is not allowed on this resource.`, { headers: { Allow: 'GET, HEAD' } });
  }
  if (path.kind === 'batch') throw new ODataError('NotImplemented', '$batch is not supported yet.');
  const set = findSet(catalog, user, path.set);
  if (set.readOnly) throw new ODataError('MethodNotAllowed', `${set.name} is read-only.`, { headers: { Allow: 'GET, HEAD' } });
  throw new ODataError('NotImplemented', `${req.method} is not supported yet.`);
}
