/**
 * Pure: assembles OData JSON responses (JSON Format 4.01) from the entity JSON text PostgreSQL built.
 * Control information comes first (@odata.context, then count, then the value); `full` metadata adds
 * @odata.id, @odata.editLink (readLink for read-only sets) and @odata.type to each entity; `none` drops context and per-entity control
 * information but keeps @odata.count and @odata.nextLink.
 */
import type { Column, EntitySet } from '../catalog/types.js';
import type { FormatOptions } from '../plan/read.js';
import { parse as parseLossless, stringify } from 'lossless-json';

export interface Urls {
  /** absolute service root, ending with '/' */
  readonly root: string;
}

export function contextUrl(urls: Urls, fragment: string): string {
  return `${urls.root}$metadata#${fragment}`;
}

export function selectFragment(set: EntitySet, select: readonly Column[], explicit: boolean): string {
  return explicit ? `${set.name}(${select.map((c) => c.name).join(',')})` : set.name;
}

/** Key literal in URL form for one value given as PostgreSQL text. */
export function keyLiteral(col: Column, text: string): string {
  switch (col.edm) {
    case 'Edm.String':
      return `'${encodeURIComponent(text.replace(/'/g, "''"))}'`;
    case 'Edm.DateTimeOffset':
      return encodeURIComponent(new Date(text).toISOString());
    case 'Edm.Binary':
      return `binary'${text}'`;
    case 'Edm.Duration':
      return `duration'${text}'`;
    default:
      return encodeURIComponent(text);
  }
}

/** A name as a URL path segment: identifiers may hold any Unicode letter (`$` of Heroku names stays). */
export function urlSegment(name: string): string {
  return encodeURIComponent(name).replace(/%24/g, '$');
}

export function entityId(set: EntitySet, keyTexts: readonly string[]): string {
  if (set.key.length === 1) return `${urlSegment(set.name)}(${keyLiteral(set.key[0]!, keyTexts[0]!)})`;
  return `${urlSegment(set.name)}(${set.key.map((k, i) => `${urlSegment(k.name)}=${keyLiteral(k, keyTexts[i]!)}`).join(',')})`;
}

export function etagValue(h: string): string {
  return `W/"${h}"`;
}

/** Prefixes control information to an entity's JSON text (PostgreSQL wrote '{...}'). */
export function withControl(entityJson: string, control: string): string {
  if (control === '') return entityJson;
  return entityJson === '{}' ? `{${control}}` : `{${control},${entityJson.slice(1)}`;
}

export function entityControl(
  set: EntitySet,
  namespace: string,
  fmt: FormatOptions,
  urls: Urls,
  keyTexts: readonly string[] | undefined,
  etag: string | undefined,
  /** minimal metadata: the entity's key properties are not all in it (JSON Format 4.5.8) */
  idInMinimal = false,
): string {
  if (fmt.metadata === 'none') return '';
  const parts: string[] = [];
  if (fmt.metadata === 'full') {
    parts.push(`"@odata.type":${JSON.stringify(`#${namespace}.${set.typeName}`)}`);
    if (keyTexts) {
      // read-only entities have a read link, updatable ones an edit link (JSON Format 4.5.8, 4.5.9)
      const id = entityId(set, keyTexts);
      parts.push(`"@odata.id":${JSON.stringify(urls.root + id)}`, `"@odata.${set.readOnly ? 'readLink' : 'editLink'}":${JSON.stringify(id)}`);
    }
  } else if (idInMinimal && keyTexts) parts.push(`"@odata.id":${JSON.stringify(urls.root + entityId(set, keyTexts))}`);
  if (etag !== undefined) parts.push(`"@odata.etag":${JSON.stringify(etagValue(etag))}`);
  return parts.join(',');
}

export interface CollectionParts {
  readonly context: string;
  readonly count?: string;
  readonly nextLink?: string;
  readonly entities: readonly string[];
  readonly ieee754: boolean;
  readonly metadata: FormatOptions['metadata'];
}

/** The text around the entities: `{...,"value":[` and `]...}`. */
function collectionFrame(p: CollectionParts): [string, string] {
  const fields: string[] = [];
  if (p.metadata !== 'none') fields.push(`"@odata.context":${JSON.stringify(p.context)}`);
  if (p.count !== undefined) fields.push(`"@odata.count":${p.ieee754 ? JSON.stringify(p.count) : p.count}`);
  fields.push('"value":[');
  const tail = p.nextLink !== undefined ? `],"@odata.nextLink":${JSON.stringify(p.nextLink)}}` : ']}';
  return [`{${fields.join(',')}`, tail];
}

/**
 * A collection response as UTF-8, written piece by piece into one buffer: joining the entities into a
 * string first copied every page twice more through the young generation of the heap.
 */
export function collectionBody(p: CollectionParts): Buffer {
  const [head, tail] = collectionFrame(p);
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, p.entities.length - 1);
  for (const e of p.entities) size += Buffer.byteLength(e);
  const buf = Buffer.allocUnsafe(size);
  let at = buf.write(head, 0, 'utf8');
  for (let i = 0; i < p.entities.length; i++) {
    if (i > 0) buf[at++] = 0x2c; // ','
    at += buf.write(p.entities[i]!, at, 'utf8');
  }
  buf.write(tail, at, 'utf8');
  return buf;
}

/** Edm types a JSON value does not tell (JSON Format 4.6.3: numbers other than Double, and strings of other types). */
const UNTOLD = new Set(['Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Single', 'Edm.Guid', 'Edm.Date', 'Edm.DateTimeOffset', 'Edm.TimeOfDay', 'Edm.Binary', 'Edm.Duration']);

/**
 * Full metadata "includes all control information explicitly" (JSON Format 3.1.2): each property whose
 * type its JSON value does not tell gets `name@odata.type` (`#Int64`, `#DateTimeOffset`...) before it.
 */
export function withPropertyTypes(set: EntitySet, entity: string): string {
  if (!set.columns.some((c) => UNTOLD.has(c.edm) || c.edm === 'Edm.Double')) return entity;
  const o = parseLossless(entity) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const col = set.columnsByName.get(k);
    // numbers other than Double, and Double's INF/-INF/NaN (written as strings), name their type
    if (col && (UNTOLD.has(col.edm) || (col.edm === 'Edm.Double' && typeof v === 'string'))) out[`${k}@odata.type`] = `#${col.edm.slice(4)}`;
    out[k] = v;
  }
  return stringify(out) ?? entity;
}

export function entityJson(context: string, metadata: FormatOptions['metadata'], entity: string, control: string): string {
  const ctx = metadata === 'none' ? '' : `"@odata.context":${JSON.stringify(context)}`;
  return withControl(entity, [ctx, control].filter((s) => s !== '').join(','));
}

export function propertyJson(context: string, metadata: FormatOptions['metadata'], valueJson: string): string {
  const ctx = metadata === 'none' ? '' : `"@odata.context":${JSON.stringify(context)},`;
  return `{${ctx}"value":${valueJson}}`;
}
