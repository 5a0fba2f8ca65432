/**
 * The workloads: the same URLs for every server, each with a check that the answer holds the right rows
 * (run once before timing, against answers computed directly with pg).
 */
import pg from 'pg';

export interface Expected {
  w2Ids: number[];
  w3Count: number;
  w4Ids: number[];
  w4p1Ids: number[];
  accountRows: number;
}

export async function computeExpected(pool: pg.Pool): Promise<Expected> {
  const ids = async (sql: string): Promise<number[]> => (await pool.query(sql)).rows.map((r: { id: number }) => r.id);
  return {
    w2Ids: await ids("SELECT id FROM account WHERE billingcity = 'City 7' AND annualrevenue > 50000 ORDER BY name LIMIT 50"),
    w3Count: Number((await pool.query("SELECT count(*) AS n FROM account WHERE industry = 'Industry 3'")).rows[0].n),
    w4Ids: await ids('SELECT id FROM account ORDER BY id OFFSET 500000 LIMIT 100'),
    w4p1Ids: await ids('SELECT id FROM account ORDER BY id LIMIT 100'),
    accountRows: Number((await pool.query('SELECT count(*) AS n FROM account')).rows[0].n),
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export interface ReadWorkload {
  id: string;
  title: string;
  /** Path relative to the service root, unencoded (encodeURI is applied). */
  path: string;
  headers?: Record<string, string>;
  /** Returns null when the answer is right, else what is wrong. */
  check(a: Answer, e: Expected): string | null;
  /** W4s: the timed URL is a nextLink that this request yields. */
  viaNextLink?: { path: string; headers: Record<string, string> };
}

type Row = Record<string, unknown>;

function rowsOf(a: Answer): Row[] | string {
  if (a.status !== 200) return `status ${a.status}: ${a.text.slice(0, 300)}`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `not JSON: ${a.text.slice(0, 200)}`;
  }
  const v = (body as { value?: unknown }).value;
  if (!Array.isArray(v)) return `no "value" array: ${a.text.slice(0, 200)}`;
  return v as Row[];
}

function sameIds(rows: Row[], want: number[]): string | null {
  const got = rows.map((r) => Number(r['id']));
  if (got.length !== want.length) return `${got.length} rows, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return `row ${i}: id ${got[i]}, expected ${want[i]} (order or content differs)`;
  }
  return null;
}

function distinctIds(rows: Row[]): boolean {
  return new Set(rows.map((r) => Number(r['id']))).size === rows.length;
}

const W2_PATH = "account?$filter=billingcity eq 'City 7' and annualrevenue gt 50000&$orderby=name&$top=50&$select=id,name,billingcity,annualrevenue";

export const READ_WORKLOADS: ReadWorkload[] = [
  {
    id: 'W1',
    title: 'key lookup account(12345)',
    path: 'account(12345)',
    check(a) {
      if (a.status !== 200) return `status ${a.status}: ${a.text.slice(0, 300)}`;
      const b = JSON.parse(a.text) as Row;
      if (Number(b['id']) !== 12345 || b['name'] !== 'Acc 12345') return `wrong entity: ${a.text.slice(0, 200)}`;
      return null;
    },
  },
  {
    id: 'W2',
    title: 'filter + orderby + top 50 + select',
    path: W2_PATH,
    check(a, e) {
      const rows = rowsOf(a);
      if (typeof rows === 'string') return rows;
      for (const r of rows) {
        if (r['billingcity'] !== 'City 7') return `row ${String(r['id'])} has billingcity ${String(r['billingcity'])}`;
        if (!(Number(r['annualrevenue']) > 50000)) return `row ${String(r['id'])} has annualrevenue ${String(r['annualrevenue'])}`;
        const extra = Object.keys(r).filter((k) => !k.startsWith('@') && !['id', 'name', 'billingcity', 'annualrevenue'].includes(k));
        if (extra.length) return `$select ignored: extra properties ${extra.join(',')}`;
      }
      return sameIds(rows, e.w2Ids);
    },
  },
  {
    id: 'W3',
    title: "$count with filter",
    path: "account/$count?$filter=industry eq 'Industry 3'",
    check(a, e) {
      if (a.status !== 200) return `status ${a.status}: ${a.text.slice(0, 300)}`;
      const n = Number(a.text.trim());
      return n === e.w3Count ? null : `count ${a.text.slice(0, 50)}, expected ${e.w3Count}`;
    },
  },
  {
    id: 'W4',
    title: 'deep page: $orderby=id&$skip=500000&$top=100',
    path: 'account?$orderby=id&$skip=500000&$top=100',
    check(a, e) {
      const rows = rowsOf(a);
      return typeof rows === 'string' ? rows : sameIds(rows, e.w4Ids);
    },
  },
  {
    id: 'W4p1',
    title: 'page 1 of the same order: $orderby=id&$top=100',
    path: 'account?$orderby=id&$top=100',
    check(a, e) {
      const rows = rowsOf(a);
      return typeof rows === 'string' ? rows : sameIds(rows, e.w4p1Ids);
    },
  },
  {
    id: 'W4s',
    title: 'deep page via $skiptoken (nextLink of $filter=id gt 499900, maxpagesize=100)',
    path: '',
    headers: { Prefer: 'odata.maxpagesize=100' },
    viaNextLink: { path: 'account?$orderby=id&$filter=id gt 499900', headers: { Prefer: 'odata.maxpagesize=100' } },
    check(a, e) {
      const rows = rowsOf(a);
      return typeof rows === 'string' ? rows : sameIds(rows, e.w4Ids);
    },
  },
  {
    id: 'W5',
    title: '$top=2000 (a full page)',
    path: 'account?$top=2000',
    check(a) {
      const rows = rowsOf(a);
      if (typeof rows === 'string') return rows;
      if (rows.length !== 2000) return `${rows.length} rows, expected 2000`;
      return distinctIds(rows) ? null : 'duplicate ids';
    },
  },
  {
    id: 'W6',
    title: "startswith(name,'Acc 12') top 50",
    path: "account?$filter=startswith(name,'Acc 12')&$top=50",
    check(a) {
      const rows = rowsOf(a);
      if (typeof rows === 'string') return rows;
      if (rows.length !== 50) return `${rows.length} rows, expected 50`;
      const bad = rows.find((r) => typeof r['name'] !== 'string' || !(r['name'] as string).startsWith('Acc 12'));
      if (bad) return `row ${String(bad['id'])} has name ${String(bad['name'])}`;
      return distinctIds(rows) ? null : 'duplicate ids';
    },
  },
];

/** The body of W8's POST (the CAP entry adds an explicit id, see servers.ts). */
export function newAccount(n: number): Record<string, unknown> {
  return {
    name: `Bench write ${n}`,
    billingcity: 'City 1',
    industry: 'Industry 1',
    annualrevenue: 1234.5,
    numberofemployees: 42,
    description: 'created by the write workload',
  };
}
export const PATCH_BODY = { name: 'Bench write patched', annualrevenue: 999.99 };
