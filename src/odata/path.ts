/**
 * Parses the resource path below the service root into our own AST of names: service document,
 * $metadata, $batch, an entity set, its $count, one entity by key, or a property of it (and its $value).
 * Syntax only: whether the names exist is decided by plan/ against the catalog.
 */
import { ODataError } from '../errors/odata-error.js';
import { matchLiteral, type Literal } from './literal.js';

export type KeyPredicate =
  | { readonly kind: 'single'; readonly value: Literal }
  | { readonly kind: 'named'; readonly pairs: readonly { readonly name: string; readonly value: Literal }[] };

export type ResourcePath =
  | { readonly kind: 'serviceDocument' }
  | { readonly kind: 'metadata' }
  | { readonly kind: 'batch' }
  | { readonly kind: 'collection'; readonly set: string }
  | { readonly kind: 'count'; readonly set: string }
  | { readonly kind: 'entity'; readonly set: string; readonly key: KeyPredicate }
  | { readonly kind: 'property'; readonly set: string; readonly key: KeyPredicate; readonly property: string; readonly value: boolean };

/** Splits on '/' outside single-quoted strings, then percent-decodes each segment. */
function segments(rawPath: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of rawPath) {
    if (ch === "'") quoted = !quoted;
    if (ch === '/' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map(decodeSegment);
}

/** One path segment percent-decoded; malformed encoding is a 400. */
export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ODataError('BadRequest', 'The URL path contains invalid percent-encoding.');
  }
}

const NAME = /^[^\s()'/,=]+/u;

export function parseKeyPredicate(text: string, setName: string): KeyPredicate {
  // text is what stands between the parentheses
  const bad = (why: string): never => {
    throw new ODataError('InvalidKey', `Invalid key predicate for ${setName}: ${why}.`, { target: setName });
  };
  if (text.trim() === '') bad('the key is empty');
  const first = matchLiteral(text, 0);
  if (first && first.end === text.length) return { kind: 'single', value: first.literal };
  const pairs: { name: string; value: Literal }[] = [];
  let pos = 0;
  while (pos < text.length) {
    const m = NAME.exec(text.slice(pos));
    if (!m) bad(`expected a property name at position ${pos}`);
    const name = m![0];
    pos += name.length;
    if (text[pos] !== '=') bad(`expected "=" after ${name}`);
    pos++;
    const lit = matchLiteral(text, pos);
    if (!lit) bad(`expected a value for ${name}`);
    pairs.push({ name, value: lit!.literal });
    pos = lit!.end;
    if (pos < text.length) {
      if (text[pos] !== ',') bad(`unexpected "${text[pos]}" at position ${pos}`);
      pos++;
    }
  }
  const names = new Set(pairs.map((p) => p.name));
  if (names.size !== pairs.length) bad('a key property is named twice');
  return { kind: 'named', pairs };
}

/** Splits "Name(key)" into its parts; a segment without parentheses has no key. */
function splitKey(seg: string): { name: string; key?: string } {
  const open = seg.indexOf('(');
  if (open < 0) return { name: seg };
  if (!seg.endsWith(')')) throw new ODataError('BadRequest', `Malformed path segment "${seg.slice(0, 100)}".`);
  return { name: seg.slice(0, open), key: seg.slice(open + 1, -1) };
}

function unsupported(what: string): ODataError {
  return new ODataError('NotImplemented', `${what.slice(0, 100)} is not supported by this service.`);
}

/** Parses the path below the service root (raw, still percent-encoded, without the leading '/'). */
export function parseResourcePath(rawPath: string): ResourcePath {
  if (rawPath === '' ) return { kind: 'serviceDocument' };
  const segs = segments(rawPath);
  if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop(); // tolerate one trailing slash
  const [first, ...rest] = segs as [string, ...string[]];
  if (first === '$metadata' && rest.length === 0) return { kind: 'metadata' };
  if (first === '$batch' && rest.length === 0) return { kind: 'batch' };
  // Well-formed resource paths this service does not implement (URL Conventions 4): 501, not 404/400.
  if (/^\$(all|crossjoin\(.*\))$/.test(first)) throw unsupported(first.replace(/\(.*$/, ''));
  const other = rest.find((r) => r === '$ref' || r === '$each' || (r.includes('.') && !r.startsWith('$')));
  if (other !== undefined) throw unsupported(other.startsWith('$') ? other : 'A type cast or bound operation segment');
  if (first.startsWith('$') && !first.includes('$', 1) && !/^\$[A-Za-z]+\(/.test(first)) {
    throw new ODataError('NotFound', `The resource "${first.slice(0, 100)}" does not exist.`);
  }
  const { name, key } = splitKey(first);
  if (name === '') throw new ODataError('NotFound', 'The resource does not exist.');
  if (key === undefined) {
    if (rest.length === 0) return { kind: 'collection', set: name };
    if (rest.length === 1 && rest[0] === '$count') return { kind: 'count', set: name };
    // Set/<something>: 4.01 key-as-segment is not supported; navigation does not exist in our model.
    throw new ODataError('NotFound', `The resource "${segs.join('/').slice(0, 200)}" does not exist.`);
  }
  if (/(^|[(=,])\s*@/.test(key)) throw unsupported('A parameter alias in a key predicate');
  const pred = parseKeyPredicate(key, name);
  if (rest.length === 0) return { kind: 'entity', set: name, key: pred };
  const [prop, ...tail] = rest as [string, ...string[]];
  if (tail.length === 0) return { kind: 'property', set: name, key: pred, property: prop, value: false };
  if (tail.length === 1 && tail[0] === '$value') return { kind: 'property', set: name, key: pred, property: prop, value: true };
  throw new ODataError('NotFound', `The resource "${segs.join('/').slice(0, 200)}" does not exist.`);
}
