/**
 * Content and version negotiation: picks the response format from $format or the Accept header
 * (metadata level, IEEE754Compatible), answers 406 when nothing acceptable can be produced, and reads
 * OData-Version / OData-MaxVersion (4.0 clients get OData-Version: 4.0).
 */
import { Memo } from '../sql/memo.js';
import { ODataError } from '../errors/odata-error.js';
import type { FormatOptions, MetadataLevel } from '../plan/read.js';

interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

function parseMediaRanges(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [typeRaw, ...paramsRaw] = part.split(';');
    const type = (typeRaw ?? '').trim().toLowerCase();
    if (type === '') continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of paramsRaw) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (k === 'q') q = Number.parseFloat(v);
      else params.set(k, v);
    }
    if (!(q > 0)) continue;
    out.push({ type, params, q });
  }
  return out.sort((a, b) => b.q - a.q);
}

const FORMAT_ALIASES: Readonly<Record<string, string>> = { json: 'application/json', xml: 'application/xml' };

export type Produced = 'json' | 'xml' | 'text';

function matches(range: string, produced: Produced): boolean {
  if (range === '*/*') return true;
  switch (produced) {
    case 'json':
      return range === 'application/json' || range === 'application/*';
    case 'xml':
      return range === 'application/xml' || range === 'application/*' || range === 'text/xml' || range === 'text/*';
    case 'text':
      return range === 'text/plain' || range === 'text/*';
  }
}

export interface Negotiated extends FormatOptions {
  readonly produced: Produced;
}

/**
 * Outcomes of negotiate by (Accept or $format, what can be produced): a client sends the same few Accept
 * headers on every request. An LRU of 256; failures are not kept (Memo keeps nothing when the build
 * throws), nor keys over 240 characters (an Accept header over ~225).
 */
const negotiated = new Memo<Negotiated>(256);
const NEGOTIATED = {};

/** Chooses among what the resource can produce, in the resource's order of preference. */
export function negotiate(accept: string | undefined, $format: string | undefined, canProduce: readonly Produced[]): Negotiated {
  const key = `${$format === undefined ? `a${accept ?? ''}` : `f${$format}`}\n${canProduce.join(',')}`;
  const build = () => Object.freeze(negotiateUncached(accept, $format, canProduce));
  return key.length <= 240 ? negotiated.get(NEGOTIATED, key, build) : build();
}

function negotiateUncached(accept: string | undefined, $format: string | undefined, canProduce: readonly Produced[]): Negotiated {
  const source = $format !== undefined ? FORMAT_ALIASES[$format.toLowerCase()] ?? $format : accept;
  const ranges = source && source.trim() !== '' ? parseMediaRanges(source) : [{ type: '*/*', params: new Map<string, string>(), q: 1 }];
  if ($format !== undefined && ranges.length === 0) throw new ODataError('InvalidQueryOption', `Invalid $format "${$format.slice(0, 50)}".`, { target: '$format' });
  for (const r of ranges) {
    const produced = canProduce.find((p) => matches(r.type, p));
    if (!produced) continue;
    const mdRaw = (r.params.get('odata.metadata') ?? r.params.get('metadata') ?? 'minimal').toLowerCase();
    if (mdRaw !== 'minimal' && mdRaw !== 'full' && mdRaw !== 'none') continue;
    const ieee = (r.params.get('ieee754compatible') ?? 'false').toLowerCase();
    if (ieee !== 'true' && ieee !== 'false') continue;
    return { produced, metadata: mdRaw as MetadataLevel, ieee754: ieee === 'true' };
  }
  const what = canProduce.map((p) => (p === 'json' ? 'application/json' : p === 'xml' ? 'application/xml' : 'text/plain')).join(', ');
  if ($format !== undefined) throw new ODataError('NotAcceptable', `The format "${$format.slice(0, 50)}" is not supported here; available: ${what}.`, { target: '$format' });
  throw new ODataError('NotAcceptable', `None of the media types in the Accept header can be produced; available: ${what}.`);
}

/** Error bodies and JSON $batch responses: JSON Format 4.1, a response names its metadata level. */
export const JSON_MINIMAL = 'application/json;odata.metadata=minimal';

export function jsonContentType(f: FormatOptions): string {
  return `application/json;odata.metadata=${f.metadata};odata.streaming=true;IEEE754Compatible=${f.ieee754 ? 'true' : 'false'}`;
}

/** The OData-Version of the response: 4.0 for clients that cannot read more, else 4.01. */
export function responseVersion(headers: { [k: string]: string | string[] | undefined }): '4.0' | '4.01' {
  const v = headers['odata-version'];
  const max = headers['odata-maxversion'];
  const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h)?.trim();
  const ver = one(v);
  if (ver !== undefined && ver !== '4.0' && ver !== '4.01' && ver !== '4') {
    throw new ODataError('UnsupportedVersion', `OData-Version ${ver.slice(0, 20)} is not supported; this service speaks 4.0 and 4.01.`);
  }
  const m = one(max);
  if (m !== undefined) {
    const n = Number.parseFloat(m);
    if (!Number.isFinite(n) || n < 4) {
      throw new ODataError('UnsupportedVersion', `OData-MaxVersion ${m.slice(0, 20)} is below 4.0, the lowest version this service speaks.`);
    }
    if (m === '4.0' || m === '4' || n < 4.01) return '4.0';
  }
  return '4.01';
}

/**
 * `Isolation: snapshot` (`OData-Isolation` in 4.0): this service does not give snapshot isolation across
 * requests (pages are read by key from live data), so such a request is not processed: 412 (Protocol 8.2.6).
 */
export function refuseSnapshotIsolation(headers: { [k: string]: string | string[] | undefined }): void {
  for (const name of ['isolation', 'odata-isolation']) {
    const h = headers[name];
    if (h !== undefined && String(h).trim().toLowerCase() === 'snapshot') {
      throw new ODataError('PreconditionFailed', 'Isolation: snapshot is not supported: pages are read from live data, not from one snapshot.');
    }
  }
}

/** Parses `Prefer` into its preferences (lower-cased names). */
export function parsePrefer(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(',')) {
    const [pref] = part.split(';');
    const eq = (pref ?? '').indexOf('=');
    const name = (eq < 0 ? pref! : pref!.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : pref!.slice(eq + 1).trim().replace(/^"|"$/g, '');
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}
