/**
 * Resolving an entity-id (URL Conventions 4.1.x, Protocol 11.2.x): `GET {root}/$entity?$id={id}` answers
 * the entity that the id identifies, exactly as a GET of the id's own URL would (with `$select` and
 * `$format`). The id is absolute, or relative to the service root (where `$entity` lives), and must name one
 * entity of this service by its key, as the `@odata.id` of our payloads and the Location of a create do.
 * `$entity/{Namespace.Type}?$id=...` also requires the entity to be of that type (404 when it is not).
 * Only GET and HEAD: the entity's own URL is the one to write to.
 */
import type { Catalog } from '../catalog/types.js';
import type { AuthUser } from '../auth/user.js';
import { ODataError } from '../errors/odata-error.js';
import { decodeSegment, parseResourcePath, type ResourcePath } from '../odata/path.js';
import type { RawQuery } from '../odata/query-options.js';
import { findSet } from './context.js';

const ENTITY_RESOURCE = /^\$entity(?:\/([^/]+))?\/?$/;

function href(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * The resource a request addresses, and the query options that apply to it: the path below the service
 * root parsed, or for `$entity?$id=...` the entity the id names (the query without `$id`).
 */
export function addressedResource(
  rest: string, method: string, raw: RawQuery, root: string, catalog: Catalog, user: AuthUser | undefined,
): { path: ResourcePath; raw: RawQuery } {
  const m = ENTITY_RESOURCE.exec(rest);
  return m ? resolveEntityId(m[1], method, raw, root, catalog, user) : { path: parseResourcePath(rest), raw };
}

/**
 * The request `$entity[/castSegment]?$id=...` stands for: the entity's path, and the query without `$id`.
 * `castSegment` is the raw type segment, if any; `root` the service root URL (with its trailing slash).
 */
function resolveEntityId(
  castSegment: string | undefined, method: string, raw: RawQuery, root: string, catalog: Catalog, user: AuthUser | undefined,
): { path: Extract<ResourcePath, { kind: 'entity' }>; raw: RawQuery } {
  if (method !== 'GET' && method !== 'HEAD') {
    throw new ODataError('MethodNotAllowed', `${method} is not allowed on $entity; send it to the entity's own URL.`, { headers: { Allow: 'GET, HEAD' } });
  }
  const id = raw.system.get('id');
  if (id === undefined || id.trim() === '') {
    throw new ODataError('InvalidQueryOption', '$entity needs the entity-id of the entity to return in $id, as in $entity?$id=Set(1).', { target: '$id' });
  }
  const notHere = (why: string): never => {
    throw new ODataError('InvalidQueryOption', `The $id "${id.slice(0, 200)}" ${why}.`, { target: '$id' });
  };
  let url: URL;
  try {
    url = new URL(id.trim(), root);
  } catch {
    return notHere('is not a valid URL');
  }
  if (url.search !== '' || url.hash !== '') notHere('is not an entity-id: it has a query or fragment');
  // both sides in WHATWG form (lower-case host, no default port), as the root came from a Host header
  const base = href(new URL(root));
  const target = href(url);
  if (!target.startsWith(base)) notHere(`does not identify an entity of this service (its entity-ids start with ${root})`);
  const path = parseResourcePath(target.slice(base.length));
  if (path.kind !== 'entity') return notHere('does not identify a single entity: an entity-id is an entity set and a key, as in Set(1)');
  if (castSegment !== undefined) {
    const cast = decodeSegment(castSegment);
    const set = findSet(catalog, user, path.set);
    if (cast !== `${catalog.namespace}.${set.typeName}`) {
      throw new ODataError('NotFound', `The entity identified by $id is of type ${catalog.namespace}.${set.typeName}, not ${cast.slice(0, 128)}.`);
    }
  }
  const system = new Map(raw.system);
  system.delete('id');
  return { path, raw: { system, aliases: raw.aliases, custom: raw.custom } };
}
