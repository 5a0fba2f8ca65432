/**
 * Request bodies of writes and $batch: read from the socket with a size cap (413 as soon as the cap is
 * passed; the rest is drained, not buffered), checked for a JSON media type (415), and parsed with
 * lossless-json so numbers keep their exact text (400 on malformed JSON or a non-object).
 */
import type { Context } from './kernel.js';
import { parse as parseLossless } from 'lossless-json';
import { ODataError } from '../errors/odata-error.js';

function tooLarge(max: number): ODataError {
  return new ODataError('PayloadTooLarge', `The request body is larger than ${max} bytes.`, { headers: { Connection: 'close' } });
}

/** Reads the whole request body, refusing more than `max` bytes, and compressed bodies (415). */
export async function readBody(ctx: Context, max: number): Promise<Buffer> {
  const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    ctx.req.resume();
    throw new ODataError('UnsupportedMediaType', `Request bodies with Content-Encoding ${encoding.slice(0, 40)} are not accepted; send the body uncompressed.`, { headers: { 'Accept-Encoding': 'identity' } });
  }
  const declared = ctx.get('Content-Length');
  if (declared !== '' && Number(declared) > max) {
    ctx.req.resume(); // discard what the client sends; Connection: close ends the exchange
    throw tooLarge(max);
  }
  const req = ctx.req;
  // Usually the whole body came with the head: Node's parser pushes it once the request's synchronous
  // start (the middleware up to here) returns, so one await lets it in. Then it is taken at once, without
  // switching the stream to flowing mode and listening; otherwise it is read as it arrives, below.
  if (declared !== '' && req.readableFlowing === null) {
    const length = Number(declared);
    if (req.readableLength < length) await null;
    // read() hands over everything buffered, which is then the whole body
    if (req.readableLength === length && length > 0) return req.read() as Buffer;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      if (failed) return;
      total += chunk.length;
      if (total > max) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, total));
    });
    req.once('error', (e) => {
      if (!failed) {
        failed = true;
        reject(new ODataError('BadRequest', `The request body could not be read: ${e.message}.`));
      }
    });
  });
}

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** 415 unless the Content-Type is absent or application/json (any parameters but a charset other than UTF-8). */
export function requireJsonMediaType(contentType: string | undefined): void {
  const t = mediaType(contentType);
  if (t !== '' && t !== 'application/json') {
    throw new ODataError('UnsupportedMediaType', `The request body must be application/json, not ${t.slice(0, 100)}.`);
  }
  requireUtf8Charset(contentType);
}

/** JSON is UTF-8 (RFC 8259 8.1): a body declared in another charset is a 415, not silently misread. */
export function requireUtf8Charset(contentType: string | undefined): void {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '');
  if (m && !/^utf-?8$/i.test(m[1]!)) {
    throw new ODataError('UnsupportedMediaType', `The request body must be UTF-8, not charset ${m[1]!.slice(0, 40)}.`);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The body as text; bytes that are not UTF-8 are a 400 (they were stored as U+FFFD before). */
export function utf8Text(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new ODataError('InvalidBody', 'The request body is not valid UTF-8.');
  }
}

/** Parses JSON keeping numbers as LosslessNumber (their exact text). */
export function parseJsonLossless(text: string): unknown {
  try {
    return parseLossless(text);
  } catch (e) {
    // the parser recurses: a document nested thousands deep overflows its stack (a RangeError)
    if (e instanceof RangeError) throw new ODataError('InvalidBody', 'The request body is nested too deeply.');
    throw new ODataError('InvalidBody', `The request body is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : 'parse error'}.`);
  }
}

/** A JSON entity body: an object. */
export function parseEntityBody(text: string, contentType: string | undefined): Record<string, unknown> {
  requireJsonMediaType(contentType);
  if (text.trim() === '') throw new ODataError('InvalidBody', 'The request body is empty; send the entity as a JSON object.');
  const v = parseJsonLossless(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ODataError('InvalidBody', 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}
