/**
 * Pure: the multipart/mixed $batch format of OData 4.0 (Protocol 11.7, RFC 2046). Parses a batch body
 * into requests and change sets (one level of nesting), each request an embedded HTTP/1.1 request
 * (`Content-Type: application/http`, `Content-Transfer-Encoding: binary`); serialises the responses the
 * same way. CRLF is the standard line ending; bare LF is tolerated on input (hand-written clients).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { ODataError } from '../errors/odata-error.js';

export interface BatchRequestPart {
  readonly method: string;
  readonly url: string;
  /** lower-case header names */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  readonly contentId?: string;
}

export type BatchUnit =
  | { readonly kind: 'request'; readonly request: BatchRequestPart }
  | { readonly kind: 'changeset'; readonly requests: readonly BatchRequestPart[] };

function bad(message: string): ODataError {
  return new ODataError('BadRequest', `Malformed multipart batch: ${message}`);
}

/** The boundary parameter of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2]) : undefined;
  return b !== undefined && b.length <= 70 ? b : undefined;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits a multipart body into the raw text of its parts (between the delimiters). */
export function splitParts(body: string, boundary: string): string[] {
  const delim = new RegExp(`(?:^|\\r?\\n)--${escapeRe(boundary)}(--)?[ \\t]*(?:\\r?\\n|$)`, 'g');
  const parts: string[] = [];
  let start = -1;
  let closed = false;
  let m: RegExpExecArray | null;
  while ((m = delim.exec(body)) !== null) {
    if (start >= 0) parts.push(body.slice(start, m.index));
    if (m[1] === '--') {
      closed = true;
      break;
    }
    start = delim.lastIndex;
    if (m[0].length === 0) delim.lastIndex++;
  }
  if (!closed) throw bad(`the closing delimiter --${boundary}-- is missing.`);
  return parts;
}

/** Splits headers from body at the first empty line; header names lower-cased. */
export function splitHeaders(text: string): { headers: Map<string, string>; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(`invalid header line "${line.slice(0, 80)}".`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parseRequestPart(partText: string): BatchRequestPart {
  const { headers: mime, body: http } = splitHeaders(partText);
  const ct = (mime.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/http') throw bad(`a part has Content-Type "${ct.slice(0, 60)}"; expected application/http.`);
  const lineEnd = /\r?\n/.exec(http);
  const requestLine = lineEnd ? http.slice(0, lineEnd.index) : http;
  const rest = lineEnd ? http.slice(lineEnd.index + lineEnd[0].length) : '';
  const rl = /^([A-Za-z]+) (\S+)(?: HTTP\/1\.[01])?$/.exec(requestLine.trim());
  if (!rl) throw bad(`invalid request line "${requestLine.slice(0, 80)}".`);
  // A request without headers and body may end right after the request line.
  const { headers, body } = rest.trim() === '' ? { headers: new Map<string, string>(), body: '' } : splitHeaders(/^\r?\n/.test(rest) ? `x: y${rest}` : rest);
  headers.delete('x');
  const contentId = mime.get('content-id') ?? headers.get('content-id');
  return { method: rl[1]!.toUpperCase(), url: rl[2]!, headers, body, ...(contentId !== undefined ? { contentId } : {}) };
}

/** Parses a multipart/mixed batch body into units: single requests and change sets. */
export function parseMultipartBatch(body: string, boundary: string): BatchUnit[] {
  const units: BatchUnit[] = [];
  for (const partText of splitParts(body, boundary)) {
    const { headers } = splitHeaders(partText);
    const ct = headers.get('content-type') ?? '';
    if (/^multipart\/mixed/i.test(ct)) {
      const inner = boundaryOf(ct);
      if (!inner) throw bad('a change set has no boundary.');
      const { body: csBody } = splitHeaders(partText);
      const requests = splitParts(csBody, inner).map(parseRequestPart);
      // Protocol 11.7.7.1: a change set holds data modifications only; a malformed batch runs nothing.
      const read = requests.find((r) => r.method === 'GET' || r.method === 'HEAD');
      if (read) throw bad(`a change set may contain only POST, PATCH, PUT and DELETE requests, not ${read.method}.`);
      units.push({ kind: 'changeset', requests });
    } else {
      units.push({ kind: 'request', request: parseRequestPart(partText) });
    }
  }
  // Content-IDs name requests for later references: unique within the batch (Protocol 11.7.7.1).
  const ids = new Set<string>();
  for (const u of units) {
    for (const r of u.kind === 'changeset' ? u.requests : [u.request]) {
      if (r.contentId === undefined) continue;
      if (ids.has(r.contentId)) throw bad(`Content-ID ${r.contentId.slice(0, 40)} is used twice.`);
      ids.add(r.contentId);
    }
  }
  return units;
}

export interface PartResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly contentId?: string;
}

export type ResponseUnit = { readonly kind: 'response'; readonly response: PartResponse } | { readonly kind: 'changeset'; readonly responses: readonly PartResponse[] };

function responsePart(r: PartResponse): Buffer {
  const mime = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary', ...(r.contentId !== undefined ? [`Content-ID: ${r.contentId}`] : [])];
  const head = [`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}`.trimEnd(), ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)];
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  return Buffer.concat([Buffer.from(`${mime.join('\r\n')}\r\n\r\n${head.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

function multipart(boundary: string, parts: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) out.push(Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n'));
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

/** Serialises batch responses; returns the body and its Content-Type. */
export function serializeMultipartBatch(units: readonly ResponseUnit[], makeBoundary: (kind: string) => string = (k) => `${k}_${randomUUID()}`): { body: Buffer; contentType: string } {
  const boundary = makeBoundary('batchresponse');
  const parts = units.map((u) => {
    if (u.kind === 'response') return responsePart(u.response);
    const cs = makeBoundary('changesetresponse');
    return Buffer.concat([Buffer.from(`Content-Type: multipart/mixed; boundary=${cs}\r\n\r\n`), multipart(cs, u.responses.map(responsePart))]);
  });
  return { body: multipart(boundary, parts), contentType: `multipart/mixed; boundary=${boundary}` };
}
