/** Load generation: autocannon for the read workloads, a sequential walk (W7), a write loop (W8). */
import http from 'node:http';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { mb, rssSampler } from './util.js';

export interface Measured {
  rps: number;          // 2xx responses per second
  p50: number;          // ms
  p99: number;          // ms
  non2xx: number;       // non-2xx responses plus socket errors and timeouts
  requests2xx: number;
  seconds: number;
  peakRssMB: number | null;
}

export interface LoadOptions {
  connections: number;
  duration: number;  // s
  warmup: number;    // s
}

/**
 * One continuous autocannon run of warm-up + duration seconds; only the answers that arrive inside the
 * last `duration` seconds are timed and counted. A separate warm-up run would end by dropping its open
 * connections, and each server would start the measured run with the abandoned requests still queued in
 * its pool (32 counts = 1.5-4.5 s of PostgreSQL's work on W3), and all connections would start at the
 * same instant, so slow workloads completed in waves; both moved W3's ratio between 0.67 and 1.12 from
 * round to round. Non-2xx answers, socket errors and timeouts count over the whole run, warm-up included;
 * the peak RSS too.
 */
export async function runAutocannon(
  url: string, headers: Record<string, string>, pid: number, o: LoadOptions, requests?: AutocannonRequest[],
): Promise<Measured> {
  const s = rssSampler(pid);
  const from = o.warmup * 1000;
  const to = from + o.duration * 1000;
  let t0 = 0;
  let ok = 0;
  let non2xx = 0;
  const latencies: number[] = [];
  const run = autocannon({ url, headers, connections: o.connections, timeout: 30, duration: o.warmup + o.duration, ...(requests ? { requests } : {}) });
  run.on('start', () => { if (t0 === 0) t0 = performance.now(); });
  run.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status > 299) { non2xx++; return; }
    const t = performance.now() - t0;
    if (t >= from && t < to) { ok++; latencies.push(ms); }
  });
  run.on('reqError', () => { non2xx++; });
  await run;
  const peak = s.stop();
  return {
    rps: ok / o.duration,
    ...percentiles(latencies, 0),
    non2xx,
    requests2xx: ok,
    seconds: o.duration,
    peakRssMB: mb(peak),
  };
}

/** p50 and p99 of the latencies (ms, sorted here in place), to 0.01 ms; `empty` when there are none. */
function percentiles(latencies: number[], empty: number): { p50: number; p99: number } {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? empty : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100);
  return { p50: at(0.5), p99: at(0.99) };
}

export interface WalkResult {
  rows: number;
  pages: number;
  seconds: number;
  rowsPerSec: number;
  duplicates: number;
  complete: boolean;          // reached the end of the set (no more pages)
  stoppedBy: 'end' | 'row limit' | 'time limit' | 'error';
  error?: string;
  mode: 'nextLink' | '$skip';
  peakRssMB: number | null;
}

/**
 * One client walks the entity set page by page: it follows @odata.nextLink; a server that gives none
 * while pages are full (CAP) is walked with $orderby=id&$top=2000&$skip=n instead.
 */
export async function walk(
  serviceRoot: string, headers: Record<string, string>, pid: number,
  opts: { maxRows: number; maxSeconds: number; pageSize: number; skipMode: boolean },
): Promise<WalkResult> {
  const seen = new Uint8Array(4_000_000);
  let rows = 0, pages = 0, duplicates = 0;
  const mode: WalkResult['mode'] = opts.skipMode ? '$skip' : 'nextLink';
  let next: string | null = opts.skipMode
    ? `${serviceRoot}account?$orderby=id&$top=${opts.pageSize}&$skip=0`
    : `${serviceRoot}account`;
  let stoppedBy: WalkResult['stoppedBy'] = 'end';
  let error: string | undefined;
  const s = rssSampler(pid);
  const t0 = performance.now();
  while (next) {
    if (rows >= opts.maxRows) { stoppedBy = 'row limit'; break; }
    if ((performance.now() - t0) / 1000 > opts.maxSeconds) { stoppedBy = 'time limit'; break; }
    const res = await fetch(next, { headers });
    const text = await res.text();
    if (res.status !== 200) { stoppedBy = 'error'; error = `status ${res.status} at ${next}: ${text.slice(0, 200)}`; break; }
    const body = JSON.parse(text) as { value: { id: number }[]; '@odata.nextLink'?: string };
    pages++;
    for (const r of body.value) {
      const id = Number(r.id);
      if (id >= 0 && id < seen.length) {
        if (seen[id]) duplicates++;
        seen[id] = 1;
      }
    }
    rows += body.value.length;
    const link = body['@odata.nextLink'];
    if (opts.skipMode) {
      next = body.value.length === opts.pageSize ? `${serviceRoot}account?$orderby=id&$top=${opts.pageSize}&$skip=${rows}` : null;
    } else {
      next = link ? new URL(link, next).href : null;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = s.stop();
  return {
    rows, pages, seconds, rowsPerSec: rows / seconds, duplicates,
    complete: stoppedBy === 'end', stoppedBy, ...(error ? { error } : {}), mode, peakRssMB: mb(peak),
  };
}

export interface WriteStep { method: string; status: number; ms: number }

interface Reply { status: number; location: string | undefined; text: string }

/**
 * The write check's HTTP client (one POST, PATCH, DELETE before W8 is timed): node:http, whose answers
 * give the status, the Location and the body text.
 */
function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One POST, PATCH, DELETE sequence; returns the steps (stops at the first failure). */
export async function writeSequence(
  serviceRoot: string, headers: Record<string, string>, body: Record<string, unknown>, patch: Record<string, unknown>,
  agent: http.Agent = http.globalAgent,
): Promise<{ steps: WriteStep[]; error?: string; id?: number }> {
  const steps: WriteStep[] = [];
  const h = { ...headers, 'content-type': 'application/json', accept: 'application/json' };
  let t = performance.now();
  const post = await send(agent, `${serviceRoot}account`, 'POST', h, JSON.stringify(body));
  steps.push({ method: 'POST', status: post.status, ms: performance.now() - t });
  if (post.status < 200 || post.status > 299) return { steps, error: `POST status ${post.status}: ${post.text.slice(0, 200)}` };
  let id: number | undefined;
  try {
    const b = JSON.parse(post.text) as { id?: unknown };
    if (b.id !== undefined) id = Number(b.id);
  } catch { /* no body */ }
  if (id === undefined) {
    const m = /account\((\d+)\)/.exec(post.location ?? '');
    if (m) id = Number(m[1]);
  }
  if (id === undefined || !Number.isFinite(id)) return { steps, error: 'POST gave neither an id in the body nor a Location header' };
  t = performance.now();
  const pr = await send(agent, `${serviceRoot}account(${id})`, 'PATCH', h, JSON.stringify(patch));
  steps.push({ method: 'PATCH', status: pr.status, ms: performance.now() - t });
  if (pr.status < 200 || pr.status > 299) return { steps, id, error: `PATCH status ${pr.status}: ${pr.text.slice(0, 200)}` };
  t = performance.now();
  const del = await send(agent, `${serviceRoot}account(${id})`, 'DELETE', h);
  steps.push({ method: 'DELETE', status: del.status, ms: performance.now() - t });
  if (del.status < 200 || del.status > 299) return { steps, id, error: `DELETE status ${del.status}: ${del.text.slice(0, 200)}` };
  return { steps, id };
}

/**
 * W8: each of `connections` autocannon connections loops POST, PATCH, DELETE of one new row, with the
 * warm-up and measured window of the read workloads (runAutocannon). The POST's key (sent, or read from
 * the answer's body or Location) addresses the PATCH and DELETE; a failed POST restarts the loop. Each of
 * the three answers counts as one request.
 */
export async function runWrites(
  serviceRoot: string, headers: Record<string, string>, pid: number, o: LoadOptions,
  makeBody: () => Record<string, unknown>, patch: Record<string, unknown>,
): Promise<Measured> {
  const root = new URL(serviceRoot);
  const h = { ...headers, 'content-type': 'application/json', accept: 'application/json' };
  const patchText = JSON.stringify(patch);
  type Ctx = { id?: number };
  const requests: AutocannonRequest[] = [
    {
      method: 'POST',
      path: `${root.pathname}account`,
      headers: h,
      setupRequest: (req, ctx: Ctx) => {
        const body = makeBody();
        ctx.id = typeof body['id'] === 'number' ? body['id'] : undefined;
        return { ...req, body: JSON.stringify(body) };
      },
      onResponse: (status, body, ctx: Ctx, resHeaders) => {
        if (status < 200 || status > 299) { ctx.id = undefined; return; }
        if (ctx.id !== undefined) return;
        try {
          const id = (JSON.parse(body) as { id?: unknown }).id;
          if (id !== undefined) ctx.id = Number(id);
        } catch { /* no body */ }
        const m = ctx.id === undefined ? /account\((\d+)\)/.exec(String(resHeaders?.['location'] ?? '')) : null;
        if (m) ctx.id = Number(m[1]);
      },
    },
    {
      method: 'PATCH',
      headers: h,
      setupRequest: (req, ctx: Ctx) => (ctx.id === undefined ? null : { ...req, path: `${root.pathname}account(${ctx.id})`, body: patchText }),
    },
    {
      method: 'DELETE',
      headers: h,
      setupRequest: (req, ctx: Ctx) => (ctx.id === undefined ? null : { ...req, path: `${root.pathname}account(${ctx.id})` }),
    },
  ];
  return runAutocannon(`${root.origin}${root.pathname}account`, h, pid, o, requests);
}
