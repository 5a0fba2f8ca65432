/**
 * Splits the query string into system query options, parameter aliases and custom options. System
 * options are recognised case-insensitively and with or without the `$` prefix (OData 4.01); a repeated
 * system option, an unknown `$option` or a malformed number is a 400; well-formed options the server does
 * not implement ($expand, $apply, $compute, ...) are a 501 naming the option.
 */
import { ODataError } from '../errors/odata-error.js';

export const SYSTEM_OPTIONS = [
  'filter', 'select', 'orderby', 'top', 'skip', 'count', 'search', 'skiptoken', 'format',
  'expand', 'apply', 'compute', 'levels', 'index', 'schemaversion', 'deltatoken', 'id',
] as const;
export type SystemOption = (typeof SYSTEM_OPTIONS)[number];

const NOT_IMPLEMENTED: ReadonlySet<SystemOption> = new Set(['expand', 'apply', 'compute', 'levels', 'index', 'deltatoken', 'id']);

export interface RawQuery {
  readonly system: ReadonlyMap<SystemOption, string>;
  /** parameter aliases: name without '@' -> raw (decoded) value text */
  readonly aliases: ReadonlyMap<string, string>;
  readonly custom: ReadonlyMap<string, string>;
}

export interface QueryOptions {
  readonly filter?: string;
  readonly select?: string;
  readonly orderby?: string;
  readonly search?: string;
  readonly top?: number;
  readonly skip?: number;
  readonly count?: boolean;
  readonly skiptoken?: string;
  readonly format?: string;
  readonly aliases: ReadonlyMap<string, string>;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ODataError('BadRequest', 'The query string contains invalid percent-encoding.');
  }
}

/** What a URL without a query string has (shared: a RawQuery is never modified). */
const NO_QUERY: RawQuery = { system: new Map(), aliases: new Map(), custom: new Map() };

/** Parses a raw query string (without '?'). '+' is kept as a plus sign, as OData's ABNF reads it. */
export function parseQueryString(qs: string): RawQuery {
  if (qs === '') return NO_QUERY;
  const system = new Map<SystemOption, string>();
  const aliases = new Map<string, string>();
  const custom = new Map<string, string>();
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    if (name.startsWith('@')) {
      const alias = name.slice(1);
      if (aliases.has(alias)) throw new ODataError('DuplicateQueryOption', `Parameter alias ${name} is given twice.`, { target: name });
      aliases.set(alias, value);
      continue;
    }
    const bare = (name.startsWith('$') ? name.slice(1) : name).toLowerCase() as SystemOption;
    if ((SYSTEM_OPTIONS as readonly string[]).includes(bare)) {
      if (system.has(bare)) throw new ODataError('DuplicateQueryOption', `System query option $${bare} is given more than once.`, { target: `$${bare}` });
      system.set(bare, value);
      continue;
    }
    if (name.startsWith('$')) throw new ODataError('InvalidQueryOption', `Unknown system query option ${name}.`, { target: name });
    custom.set(name, value);
  }
  return { system, aliases, custom };
}

function nonNegativeInt(option: string, v: string): number {
  if (!/^[0-9]+$/.test(v)) throw new ODataError('InvalidQueryOption', `$${option} must be a non-negative integer, got "${v.slice(0, 50)}".`, { target: `$${option}` });
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ODataError('InvalidQueryOption', `$${option} is too large.`, { target: `$${option}` });
  return n;
}

/** Which options each kind of resource accepts. */
export type ResourceKind = 'collection' | 'count' | 'entity' | 'property' | 'metadata' | 'serviceDocument';

const ALLOWED: Record<ResourceKind, ReadonlySet<SystemOption>> = {
  collection: new Set(['filter', 'select', 'orderby', 'top', 'skip', 'count', 'search', 'skiptoken', 'format']),
  count: new Set(['filter', 'search', 'format']),
  entity: new Set(['select', 'format']),
  property: new Set(['format']),
  metadata: new Set(['format']),
  serviceDocument: new Set(['format']),
};

/** Validates the options against the resource kind and converts the scalar ones. */
export function toQueryOptions(raw: RawQuery, resource: ResourceKind): QueryOptions {
  for (const [name] of raw.system) {
    if (NOT_IMPLEMENTED.has(name)) {
      throw new ODataError('NotImplemented', `The system query option $${name} is not supported by this service.`, { target: `$${name}` });
    }
    if (name === 'schemaversion') continue;
    if (!ALLOWED[resource].has(name)) {
      throw new ODataError('InvalidQueryOption', `The system query option $${name} cannot be applied to this resource.`, { target: `$${name}` });
    }
  }
  const s = raw.system;
  const count = s.get('count');
  let countValue: boolean | undefined;
  if (count !== undefined) {
    const c = count.toLowerCase();
    if (c !== 'true' && c !== 'false') throw new ODataError('InvalidQueryOption', `$count must be true or false, got "${count.slice(0, 50)}".`, { target: '$count' });
    countValue = c === 'true';
  }
  const top = s.get('top');
  const skip = s.get('skip');
  return {
    ...(s.has('filter') ? { filter: s.get('filter')! } : {}),
    ...(s.has('select') ? { select: s.get('select')! } : {}),
    ...(s.has('orderby') ? { orderby: s.get('orderby')! } : {}),
    ...(s.has('search') ? { search: s.get('search')! } : {}),
    ...(top !== undefined ? { top: nonNegativeInt('top', top) } : {}),
    ...(skip !== undefined ? { skip: nonNegativeInt('skip', skip) } : {}),
    ...(countValue !== undefined ? { count: countValue } : {}),
    ...(s.has('skiptoken') ? { skiptoken: s.get('skiptoken')! } : {}),
    ...(s.has('format') ? { format: s.get('format')! } : {}),
    aliases: raw.aliases,
  };
}
