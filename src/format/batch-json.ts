/**
 * Pure: the JSON $batch format of OData 4.01 (JSON Format section 19). Checks the request document's
 * shape with ajv, groups adjacent requests of one atomicityGroup into a change set, turns inner bodies
 * back into JSON text without losing number digits (lossless-json), and writes the response document
 * `{"responses":[{"id","status","headers","body"}]}` embedding the inner JSON bodies as they are.
 */
import { Ajv } from 'ajv';
import { stringify } from 'lossless-json';
import { ODataError } from '../errors/odata-error.js';
import { conditionRefs, parseBatchCondition, type BatchCondition } from './batch-condition.js';

export interface JsonBatchRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  /** lower-case header names */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string | undefined;
  readonly atomicityGroup?: string;
  readonly dependsOn: readonly string[];
  /**
   * The `if` member: its text, and its parse when it is in the subset evaluated here (batch-condition.ts);
   * `parsed` undefined: outside it, so the request is not run (424).
   */
  readonly condition?: { readonly text: string; readonly parsed: BatchCondition | undefined };
}

export type JsonBatchUnit =
  | { readonly kind: 'request'; readonly request: JsonBatchRequest }
  | { readonly kind: 'changeset'; readonly group: string; readonly requests: readonly JsonBatchRequest[] };

const ajv = new Ajv({ allErrors: false, strict: false });
const validateDoc = ajv.compile({
  type: 'object',
  required: ['requests'],
  properties: {
    requests: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'method', 'url'],
        properties: {
          id: { type: 'string', minLength: 1 },
          method: { type: 'string', pattern: '^(?:[Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Pp][Uu][Tt]|[Dd][Ee][Ll][Ee][Tt][Ee])$' },
          url: { type: 'string', minLength: 1 },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          body: true,
          atomicityGroup: { type: 'string', minLength: 1 },
          dependsOn: { type: 'array', items: { type: 'string' } },
          if: { type: 'string' },
        },
      },
    },
  },
});

/** Validates and groups a parsed JSON batch document (numbers as LosslessNumber). */
export function parseJsonBatch(doc: unknown): JsonBatchUnit[] {
  if (!validateDoc(doc)) {
    const e = validateDoc.errors?.[0];
    throw new ODataError('BadRequest', `Malformed JSON batch: ${e ? `${e.instancePath || '/'} ${e.message ?? ''}` : 'invalid document'}.`);
  }
  const raw = (doc as { requests: Record<string, unknown>[] }).requests;
  const ids = new Set<string>();
  const units: JsonBatchUnit[] = [];
  const closedGroups = new Set<string>();
  const seenGroups = new Set<string>();
  for (const r of raw) {
    const id = r['id'] as string;
    if (ids.has(id)) throw new ODataError('BadRequest', `Malformed JSON batch: the request id "${id.slice(0, 50)}" is used twice.`);
    const group = r['atomicityGroup'] as string | undefined;
    // JSON Format 19.1: an atomicityGroup's name is not also a request id (either way round).
    if (seenGroups.has(id) || group === id || (group !== undefined && ids.has(group))) {
      const name = seenGroups.has(id) ? id : group!;
      throw new ODataError('BadRequest', `Malformed JSON batch: "${name.slice(0, 50)}" is both a request id and an atomicityGroup.`);
    }
    ids.add(id);
    const headers = new Map<string, string>();
    for (const [k, v] of Object.entries((r['headers'] as Record<string, string> | undefined) ?? {})) headers.set(k.toLowerCase(), v);
    let body: string | undefined;
    if (r['body'] !== undefined && r['body'] !== null) {
      body = typeof r['body'] === 'string' ? r['body'] : (stringify(r['body']) ?? undefined);
      if (!headers.has('content-type') && typeof r['body'] !== 'string') headers.set('content-type', 'application/json');
    }
    // dependsOn and an `if` condition name requests or atomicity groups that come before this request
    // (JSON Format 19.1): not itself, nor its own group.
    const before = (ref: string): boolean => ref !== id && ref !== group && (ids.has(ref) || seenGroups.has(ref));
    for (const d of (r['dependsOn'] as string[] | undefined) ?? []) {
      if (!before(d)) {
        throw new ODataError('BadRequest', `Malformed JSON batch: request "${id.slice(0, 50)}" depends on "${d.slice(0, 50)}", which is not a request or atomicityGroup before it.`);
      }
    }
    let condition: JsonBatchRequest['condition'];
    if (typeof r['if'] === 'string') {
      const parsed = parseBatchCondition(r['if']);
      for (const ref of parsed ? conditionRefs(parsed) : []) {
        if (!before(ref)) {
          throw new ODataError('BadRequest', `Malformed JSON batch: the "if" condition of request "${id.slice(0, 50)}" refers to "${ref.slice(0, 50)}", which is not a request or atomicityGroup before it.`);
        }
      }
      condition = { text: r['if'], parsed };
    }
    if (group !== undefined) seenGroups.add(group);
    const req: JsonBatchRequest = {
      id,
      method: (r['method'] as string).toUpperCase(),
      url: r['url'] as string,
      headers,
      body,
      ...(group !== undefined ? { atomicityGroup: group } : {}),
      dependsOn: (r['dependsOn'] as string[] | undefined) ?? [],
      ...(condition !== undefined ? { condition } : {}),
    };
    const last = units[units.length - 1];
    if (group !== undefined && last?.kind === 'changeset' && last.group === group) {
      (last.requests as JsonBatchRequest[]).push(req);
      continue;
    }
    if (last?.kind === 'changeset') closedGroups.add(last.group);
    if (group !== undefined) {
      if (closedGroups.has(group)) throw new ODataError('BadRequest', `Malformed JSON batch: the requests of atomicityGroup "${group.slice(0, 50)}" are not adjacent.`);
      units.push({ kind: 'changeset', group, requests: [req] });
    } else units.push({ kind: 'request', request: req });
  }
  return units;
}

export interface JsonBatchResponse {
  readonly id: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly atomicityGroup?: string;
}

/** A response header by its lower-case name, whatever the case it was set with. */
export function headerValue(headers: Readonly<Record<string, string>>, lowerName: string): string | undefined {
  return Object.entries(headers).find(([k]) => k.toLowerCase() === lowerName)?.[1];
}

/**
 * An inner response body as OData's JSON batch format writes it: a JSON body (application/json, with
 * or without parameters) as the JSON value itself, a text/* body as a string, any other binary body as
 * a base64url string. Collection pages arrive as Buffers and are JSON like the rest.
 */
function bodyJson(r: JsonBatchResponse): string | undefined {
  if (r.body === undefined || r.body.length === 0) return undefined;
  const ct = headerValue(r.headers, 'content-type') ?? '';
  const text = (): string => (typeof r.body === 'string' ? r.body : r.body!.toString('utf8'));
  if (/^application\/json(?:\s*;|\s*$)/i.test(ct)) return text();
  if (/^text\//i.test(ct) || typeof r.body === 'string') return JSON.stringify(text());
  return JSON.stringify(r.body.toString('base64url'));
}

export function serializeJsonBatch(responses: readonly JsonBatchResponse[]): string {
  const items = responses.map((r) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
    const body = bodyJson(r);
    const group = r.atomicityGroup !== undefined ? `,"atomicityGroup":${JSON.stringify(r.atomicityGroup)}` : '';
    return `{"id":${JSON.stringify(r.id)}${group},"status":${r.status},"headers":${JSON.stringify(headers)}${body !== undefined ? `,"body":${body}` : ''}}`;
  });
  return `{"responses":[${items.join(',')}]}`;
}
