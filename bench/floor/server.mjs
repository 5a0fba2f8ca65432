// The floor: node:http + pg, no framework, one hand-written SQL statement per benchmark URL, JSON built
// by PostgreSQL. It understands exactly the benchmark's URLs and nothing else (404 for the rest).
// Env: PORT, DATABASE_URL, FLOOR_POOL (default 10), FLOOR_W2 (see W2_SQL).
import http from 'node:http';
import pg from 'pg';

const ROOT = '/odata/v4/';
const PAGE = 2000;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.FLOOR_POOL || 10) });
pool.on('error', () => {});

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true';
const CTX_SET = '{"@odata.context":"$metadata#account","value":';

function send(res, status, body, type = JSON_TYPE, extra = {}) {
  res.writeHead(status, { 'content-type': type, 'odata-version': '4.0', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
const sendError = (res, status, message) =>
  send(res, status, JSON.stringify({ error: { code: String(status), message } }));

async function one(sql, params) {
  const r = await pool.query({ text: sql, values: params, rowMode: 'array' });
  return r.rows[0]?.[0] ?? null;
}

/** A JSON array of rows, built by PostgreSQL. */
const agg = (inner) => `SELECT coalesce(json_agg(t), '[]')::text FROM (${inner}) t`;

async function collection(res, inner, params) {
  send(res, 200, CTX_SET + (await one(agg(inner), params)) + '}');
}

/** Keyset page by id after `after`; nextLink continues from the last id while rows remain. */
async function keysetPage(req, res, after, size, linkPrefix) {
  const r = await pool.query({
    text: `WITH p AS (SELECT * FROM account WHERE id > $1 ORDER BY id LIMIT $2)
           SELECT coalesce((SELECT json_agg(p) FROM p), '[]')::text,
                  (SELECT max(id) FROM p),
                  EXISTS (SELECT 1 FROM account WHERE id > (SELECT max(id) FROM p))`,
    values: [after, size],
    rowMode: 'array',
  });
  const [json, last, more] = r.rows[0];
  const next = more ? `,"@odata.nextLink":"http://${req.headers.host}${ROOT}account?${linkPrefix}$skiptoken=${last}"` : '';
  send(res, 200, CTX_SET + json + next + '}');
}

function maxPageSize(req) {
  const m = /odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''));
  return m ? Math.min(Number(m[1]), PAGE) : PAGE;
}

// W2 as hand-written: ORDER BY name (nulls last, ties in whatever order the plan gives). With
// FLOOR_W2=odata, the answer OData asks for, as ours computes it: null names first, ties by the key, in
// two index-friendly branches (see bench/README.md, "W2 and OData's null ordering").
const W2_SQL = process.env.FLOOR_W2 === 'odata'
  ? `SELECT * FROM ((SELECT id, name, billingcity, annualrevenue FROM account WHERE billingcity = $1 AND annualrevenue > $2 AND name IS NULL ORDER BY id LIMIT 50)
     UNION ALL (SELECT id, name, billingcity, annualrevenue FROM account WHERE billingcity = $1 AND annualrevenue > $2 AND name IS NOT NULL ORDER BY name, id LIMIT 50)) u
     ORDER BY name IS NOT NULL, name, id LIMIT 50`
  : 'SELECT id, name, billingcity, annualrevenue FROM account WHERE billingcity = $1 AND annualrevenue > $2 ORDER BY name LIMIT 50';

const COLLECTION_QUERIES = new Map([
  // W2
  ["$filter=billingcity eq 'City 7' and annualrevenue gt 50000&$orderby=name&$top=50&$select=id,name,billingcity,annualrevenue",
    (req, res) => collection(res, W2_SQL, ['City 7', 50000])],
  // W4 (deep page by offset) and its page 1
  ['$orderby=id&$skip=500000&$top=100', (req, res) => collection(res, 'SELECT * FROM account ORDER BY id OFFSET $1 LIMIT $2', [500000, 100])],
  ['$orderby=id&$top=100', (req, res) => collection(res, 'SELECT * FROM account ORDER BY id LIMIT $1', [100])],
  // W5
  ['$top=2000', (req, res) => collection(res, 'SELECT * FROM account ORDER BY id LIMIT $1', [2000])],
  // W6
  ["$filter=startswith(name,'Acc 12')&$top=50", (req, res) => collection(res, 'SELECT * FROM account WHERE name LIKE $1 ORDER BY id LIMIT 50', ['Acc 12%'])],
  // W4 via skiptoken: the first page, whose nextLink is the timed URL
  ['$orderby=id&$filter=id gt 499900', (req, res) => keysetPage(req, res, 499900, maxPageSize(req), '$orderby=id&')],
  // W7: the walk starts at the bare entity set
  ['', (req, res) => keysetPage(req, res, 0, maxPageSize(req), '')],
]);

async function handle(req, res) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : decodeURIComponent(url.slice(q + 1));
  if (path === '/healthz') return send(res, 200, 'ok', 'text/plain');
  if (!path.startsWith(ROOT)) return sendError(res, 404, 'not found');
  const rest = path.slice(ROOT.length);
  const key = /^account\((\d+)\)$/.exec(rest);
  if (req.method === 'GET') {
    if (key) {
      const row = await one('SELECT row_to_json(a)::text FROM account a WHERE id = $1', [Number(key[1])]);
      if (row === null) return sendError(res, 404, 'no such account');
      return send(res, 200, '{"@odata.context":"$metadata#account/$entity",' + row.slice(1));
    }
    if (rest === 'account/$count' && query === "$filter=industry eq 'Industry 3'") {
      return send(res, 200, String(await one('SELECT count(*) FROM account WHERE industry = $1', ['Industry 3'])), 'text/plain');
    }
    if (rest === 'account') {
      const h = COLLECTION_QUERIES.get(query);
      if (h) return h(req, res);
      const tok = /^(\$orderby=id&)?\$skiptoken=(\d+)$/.exec(query);
      if (tok) return keysetPage(req, res, Number(tok[2]), maxPageSize(req), tok[1] ?? '');
    }
    return sendError(res, 404, 'not a benchmark URL');
  }
  if (req.method === 'POST' && rest === 'account') {
    const body = await readBody(req);
    const row = await one(
      `INSERT INTO account (id, name, billingcity, industry, annualrevenue, numberofemployees, description)
       SELECT coalesce(r.id, nextval('account_id_seq')), r.name, r.billingcity, r.industry, r.annualrevenue, r.numberofemployees, r.description
       FROM json_populate_record(null::account, $1::json) r
       RETURNING row_to_json(account)::text`,
      [body],
    );
    return send(res, 201, '{"@odata.context":"$metadata#account/$entity",' + row.slice(1), JSON_TYPE, {
      location: `http://${req.headers.host}${ROOT}account(${JSON.parse(row).id})`,
    });
  }
  if (req.method === 'PATCH' && key) {
    const body = await readBody(req);
    const r = await pool.query(
      `UPDATE account a SET name = r.name, annualrevenue = r.annualrevenue, systemmodstamp = now()
       FROM json_populate_record(null::account, $2::json) r WHERE a.id = $1`,
      [Number(key[1]), body],
    );
    if (r.rowCount === 0) return sendError(res, 404, 'no such account');
    res.writeHead(204, { 'odata-version': '4.0' });
    return res.end();
  }
  if (req.method === 'DELETE' && key) {
    const r = await pool.query('DELETE FROM account WHERE id = $1', [Number(key[1])]);
    if (r.rowCount === 0) return sendError(res, 404, 'no such account');
    res.writeHead(204, { 'odata-version': '4.0' });
    return res.end();
  }
  return sendError(res, 405, 'method not allowed');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) sendError(res, 500, String(e?.message ?? e));
    else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ msg: 'floor listening', port: server.address().port }) + '\n');
});
const stop = () => server.close(() => pool.end().finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
