/**
 * Compiles the typed trees of plan/ to PostgreSQL text. Values are always `$n` parameters with an
 * explicit cast; column names come from the catalog, quoted by ident (pg-format's %I); operators and functions map
 * through the closed tables below. OData's two-valued comparison semantics (null eq null is true,
 * null ne 'x' is true, null gt 1 is false) are kept with as little SQL as possible so that indexes still
 * serve the common cases: a boolean expression is compiled either "loose" (only the rows where it is true
 * matter, e.g. at the top of WHERE) or "exact" (its false must be false, not NULL, e.g. under `not`).
 */
import { ident } from './json.js';
import type { EdmType, PgKind } from '../catalog/types.js';
import { assertNever } from '../errors/odata-error.js';
import type { FunctionName } from '../odata/filter-parser.js';
import type { ArithOp, CompareOp, ConstValue, TypedExpr, TypedOrderItem, TypedSearch } from '../plan/typed-expr.js';
import { isInteger } from '../plan/typed-expr.js';
import { durationToInterval } from '../validate/edm-formats.js';
import { castSql, PARAM_CAST } from './cast.js';

export interface SqlContext {
  readonly alias: string;
  readonly params: unknown[];
}

const COMPARE_SQL = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const satisfies Record<CompareOp, string>;
const ARITH_SQL = { add: '+', sub: '-', mul: '*', div: '/', divby: '/', mod: '%' } as const satisfies Record<ArithOp, string>;
const EXTRACT_FIELD = { year: 'year', month: 'month', day: 'day', hour: 'hour', minute: 'minute', second: 'second' } as const;
/** Column kinds whose values are compared and searched as text. */
const AS_TEXT = { enum: true, json: true } as const satisfies Partial<Record<PgKind, true>>;

function param(ctx: SqlContext, value: unknown, cast: string): string {
  ctx.params.push(value);
  return `$${ctx.params.length}::${cast}`;
}

function constSql(value: ConstValue, type: EdmType, ctx: SqlContext): string {
  if (type === 'Edm.Duration' && typeof value === 'string') return param(ctx, durationToInterval(value), 'interval');
  if (type === 'Edm.Binary') {
    ctx.params.push(value);
    return `decode($${ctx.params.length}::text, 'base64')`;
  }
  return param(ctx, value, PARAM_CAST[type]);
}

/**
 * OData's trim removes leading and trailing whitespace "according to Unicode" (the White_Space property);
 * PostgreSQL's one-argument btrim removes spaces only. A constant of the SQL text, not a value.
 */
const UNICODE_WHITESPACE = "U&' \\0009\\000A\\000B\\000C\\000D\\0085\\00A0\\1680\\2000\\2001\\2002\\2003\\2004\\2005\\2006\\2007\\2008\\2009\\200A\\2028\\2029\\202F\\205F\\3000'";

/** Escapes LIKE's metacharacters (backslash is PostgreSQL's default LIKE escape). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function columnRef(e: Extract<TypedExpr, { kind: 'column' }>, ctx: SqlContext): string {
  const ref = `${ident(ctx.alias)}.${ident(e.column.dbName)}`;
  return Object.hasOwn(AS_TEXT, e.column.pg) ? `${ref}::text` : ref;
}

/** SQL text of a value expression (booleans compiled exactly: true, false or NULL as OData says). */
export function compileValue(e: TypedExpr, ctx: SqlContext): string {
  switch (e.kind) {
    case 'column':
      return columnRef(e, ctx);
    case 'const':
      return constSql(e.value, e.type, ctx);
    case 'null':
      return e.type ? `NULL::${PARAM_CAST[e.type]}` : 'NULL';
    case 'compare':
    case 'logical':
    case 'not':
    case 'in':
      return compileBool(e, ctx, true);
    case 'arith':
      return arith(e, ctx);
    case 'negate':
      return `(- ${compileValue(e.operand, ctx)})`;
    case 'call':
      return call(e.fn, e.args, e.type, ctx);
    case 'cast':
      return e.operand.type === undefined ? `NULL::${PARAM_CAST[e.type]}` : castSql(compileValue(e.operand, ctx), e.operand.type, e.type);
    default:
      return assertNever(e, 'typed expression');
  }
}

function arith(e: Extract<TypedExpr, { kind: 'arith' }>, ctx: SqlContext): string {
  const l = compileValue(e.left, ctx);
  const r = compileValue(e.right, ctx);
  const lt = e.left.type;
  const rt = e.right.type;
  // Single/Double div and every divby do not fail on a zero divisor: INF, -INF or NaN (5.1.1.2.4-5)
  const float = e.type === 'Edm.Single' || e.type === 'Edm.Double';
  if ((e.op === 'divby' && e.type !== 'Edm.Duration') || (e.op === 'div' && float)) {
    const num = isInteger(lt) && isInteger(rt) ? `(${l})::numeric` : l;
    const t = float ? 'float8' : 'numeric';
    return `(CASE WHEN ${r} = 0 THEN (CASE WHEN ${l} > 0 THEN 'Infinity' WHEN ${l} < 0 THEN '-Infinity' WHEN ${l} = 0 THEN 'NaN' END)::${t} ELSE ${num} / ${r} END)`;
  }
  if (e.op === 'mod' && (e.type === 'Edm.Single' || e.type === 'Edm.Double')) {
    return `(mod((${l})::numeric, (${r})::numeric))::${PARAM_CAST[e.type]}`;
  }
  if (e.op === 'sub' && lt === 'Edm.Date' && rt === 'Edm.Date') return `((${l} - ${r}) * interval '1 day')`;
  if ((e.op === 'add' || e.op === 'sub') && e.type === 'Edm.Date') return `(${l} ${ARITH_SQL[e.op]} ${r})::date`;
  return `(${l} ${ARITH_SQL[e.op]} ${r})`;
}

function isConstString(e: TypedExpr): e is Extract<TypedExpr, { kind: 'const' }> & { value: string } {
  return e.kind === 'const' && typeof e.value === 'string';
}

/**
 * year(), hour(), date(), totaloffsetminutes()... of a DateTimeOffset literal with an offset other than Z
 * are read in that offset (URL Conventions 5.1.1.8): hour(2021-03-06T11:00:00+01:00) is 11, not 10.
 * Columns hold UTC (timestamptz), so their offset is 0 and PostgreSQL's session time zone (UTC) applies.
 */
function localDto(fn: FunctionName, arg: TypedExpr | undefined, ctx: SqlContext): string | undefined {
  if (arg?.kind !== 'const' || arg.type !== 'Edm.DateTimeOffset') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?([+-]\d{2}):(\d{2})$/.exec(String(arg.value));
  if (!m || (Number(m[7]) === 0 && m[8] === '00')) return undefined;
  const [, y, mo, d, h, mi, sec = '00', oh, om] = m as unknown as string[];
  const fields: Partial<Record<FunctionName, () => string>> = {
    year: () => param(ctx, y, 'int4'),
    month: () => param(ctx, mo, 'int4'),
    day: () => param(ctx, d, 'int4'),
    hour: () => param(ctx, h, 'int4'),
    minute: () => param(ctx, mi, 'int4'),
    date: () => param(ctx, `${y}-${mo}-${d}`, 'date'),
    time: () => param(ctx, `${h}:${mi}:${sec}`, 'time'),
    totaloffsetminutes: () => param(ctx, String(Math.sign(Number(oh!) || (oh!.startsWith('-') ? -1 : 1)) * (Math.abs(Number(oh!)) * 60 + Number(om!))), 'int4'),
  };
  return fields[fn]?.();
}

function call(fn: FunctionName, args: readonly TypedExpr[], type: EdmType, ctx: SqlContext): string {
  const a = (i: number): string => compileValue(args[i]!, ctx);
  const local = localDto(fn, args[0], ctx);
  if (local !== undefined) return local;
  switch (fn) {
    case 'contains':
    case 'startswith':
    case 'endswith': {
      const pat = args[1]!;
      if (isConstString(pat)) {
        const s = escapeLike(pat.value);
        const like = fn === 'contains' ? `%${s}%` : fn === 'startswith' ? `${s}%` : `%${s}`;
        const subject = a(0);
        return `(${subject} LIKE ${param(ctx, like, 'text')})`;
      }
      const s = a(0);
      const p = a(1);
      if (fn === 'contains') return `(strpos(${s}, ${p}) > 0)`;
      return `(${fn === 'startswith' ? 'left' : 'right'}(${s}, char_length(${p})) = ${p})`;
    }
    case 'length':
      return `char_length(${a(0)})`;
    case 'indexof':
      return `(strpos(${a(0)}, ${a(1)}) - 1)`;
    case 'substring': {
      // 0-based start N; a negative N counts from the end of the string (URL Conventions 5.1.1.7.6), as
      // far as its beginning. A negative length is a bad request: substr() refuses it (a 400). substr()
      // takes int4 only: Int64 arguments are clamped into its range (a text is never that long).
      const s = a(0);
      const int4 = (i: number): string => (args[i]!.type === 'Edm.Int64' ? `greatest(least(${a(i)}, 2147483646), -2147483646)::int4` : a(i));
      const n = int4(1);
      const from = args[1]!.kind === 'const' && Number(args[1]!.value) >= 0 ? n : `(CASE WHEN ${n} < 0 THEN greatest(char_length(${s}) + ${n}, 0) ELSE ${n} END)`;
      return args.length === 3 ? `substr(${s}, ${from} + 1, ${int4(2)})` : `substr(${s}, ${from} + 1)`;
    }
    case 'tolower':
      return `lower(${a(0)})`;
    case 'toupper':
      return `upper(${a(0)})`;
    case 'trim':
      return `btrim(${a(0)}, ${UNICODE_WHITESPACE})`;
    case 'concat':
      return `(${a(0)} || ${a(1)})`;
    case 'matchesPattern':
      return `(${a(0)} ~ ${a(1)})`;
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
    case 'minute':
      return `extract(${EXTRACT_FIELD[fn]} from ${a(0)})::int4`;
    case 'second':
      return `floor(extract(second from ${a(0)}))::int4`;
    case 'fractionalseconds': {
      const v = a(0);
      return `(extract(second from ${v}) - floor(extract(second from ${v})))`;
    }
    case 'date':
      return `(${a(0)})::date`;
    case 'time':
      return `(${a(0)})::time`;
    case 'totaloffsetminutes':
      // timestamptz values are normalised to UTC: the offset is 0 (null for null)
      return `(CASE WHEN ${a(0)} IS NULL THEN NULL ELSE 0 END)::int4`;
    case 'now':
      return 'now()';
    case 'mindatetime':
      return param(ctx, '0001-01-01T00:00:00Z', 'timestamptz');
    case 'maxdatetime':
      return param(ctx, '9999-12-31T23:59:59.999999Z', 'timestamptz');
    case 'round':
    case 'floor':
    case 'ceiling': {
      if (isInteger(type)) return a(0);
      const f = fn === 'ceiling' ? 'ceil' : fn;
      // round(double precision) rounds half to even; numeric rounds half away from zero as OData says
      if (type === 'Edm.Single' || type === 'Edm.Double') return `${f}((${a(0)})::numeric)::${PARAM_CAST[type]}`;
      return `${f}(${a(0)})`;
    }
    default:
      return assertNever(fn, 'function');
  }
}

/** Boolean-valued constants as SQL keywords (a closed choice, not user text). */
function boolKeyword(b: boolean): string {
  return b ? 'true' : 'false';
}

/**
 * A Boolean expression. `exact`: the SQL must be false (not NULL) wherever OData's value is false;
 * otherwise only the rows where it is true matter (WHERE, and/or below WHERE).
 */
function compileBool(e: TypedExpr, ctx: SqlContext, exact: boolean): string {
  switch (e.kind) {
    case 'compare':
      return compare(e, ctx, exact);
    case 'logical':
      return `(${compileBool(e.left, ctx, exact)} ${e.op === 'and' ? 'AND' : 'OR'} ${compileBool(e.right, ctx, exact)})`;
    case 'not':
      return `(NOT ${compileBool(e.operand, ctx, true)})`;
    case 'in':
      return inList(e, ctx, exact);
    case 'const':
      return typeof e.value === 'boolean' ? boolKeyword(e.value) : compileValue(e, ctx);
    case 'null':
      return 'NULL::bool';
    case 'column':
    case 'arith':
    case 'negate':
    case 'call':
    case 'cast':
      return compileValue(e, ctx);
    default:
      return assertNever(e, 'boolean expression');
  }
}

/** A char(n) column (blank-padded; PostgreSQL compares it without its trailing blanks). */
function isBpchar(e: TypedExpr): boolean {
  return e.kind === 'column' && /^(character|bpchar)(\(|$)/.test(e.column.pgType);
}

function compare(e: Extract<TypedExpr, { kind: 'compare' }>, ctx: SqlContext, exact: boolean): string {
  const { op, left, right } = e;
  const eqLike = op === 'eq' || op === 'ne';
  if (left.kind === 'null' && right.kind === 'null') return boolKeyword(op === 'eq');
  if (left.kind === 'null' || right.kind === 'null') {
    const other = left.kind === 'null' ? right : left;
    if (!eqLike) return 'false';
    return `(${compileValue(other, ctx)} IS ${op === 'eq' ? '' : 'NOT '}NULL)`;
  }
  // X eq true / X ne false ...: with a nullable Boolean X, use IS [NOT] TRUE/FALSE (never NULL)
  if (eqLike && left.type === 'Edm.Boolean') {
    const [lit, other] = left.kind === 'const' ? [left, right] : right.kind === 'const' ? [right, left] : [undefined, undefined];
    if (lit && other && other.kind !== 'const' && typeof lit.value === 'boolean' && other.nullable) {
      if (op === 'eq' && lit.value && !exact) return compileBool(other, ctx, false);
      const x = compileBool(other, ctx, true);
      return `((${x}) IS ${op === 'ne' ? 'NOT ' : ''}${boolKeyword(lit.value).toUpperCase()})`;
    }
  }
  // a string literal meets a char(n) column as char(n): trailing blanks do not count, so the padded value
  // the payload shows ('X1  ') finds its row, as 'X1' does (cast to text, 'X1  ' would match nothing)
  const side = (x: TypedExpr, other: TypedExpr): string =>
    isBpchar(other) && x.kind === 'const' && typeof x.value === 'string' ? param(ctx, x.value, 'bpchar') : compileValue(x, ctx);
  const l = side(left, right);
  const r = side(right, left);
  const nullable = left.nullable || right.nullable;
  if (!nullable) return `(${l} ${COMPARE_SQL[op]} ${r})`;
  if (eqLike) {
    if (op === 'eq' && !(left.nullable && right.nullable)) {
      // one side is never null: plain = is right for the true rows, and index-friendly
      return exact ? `coalesce(${l} = ${r}, false)` : `(${l} = ${r})`;
    }
    return `(${l} IS ${op === 'eq' ? 'NOT ' : ''}DISTINCT FROM ${r})`;
  }
  return exact ? `coalesce(${l} ${COMPARE_SQL[op]} ${r}, false)` : `(${l} ${COMPARE_SQL[op]} ${r})`;
}

function inList(e: Extract<TypedExpr, { kind: 'in' }>, ctx: SqlContext, exact: boolean): string {
  // `x in ()` is false; return before compiling x, whose parameters would otherwise stay unused and untyped
  if (e.values.length === 0 && !e.hasNull) return 'false';
  const v = compileValue(e.operand, ctx);
  const parts: string[] = [];
  if (e.values.length > 0) {
    const values =
      e.elemType === 'Edm.Binary'
        ? e.values.map((b) => Buffer.from(String(b), 'base64'))
        : e.elemType === 'Edm.Duration'
          ? e.values.map((d) => durationToInterval(String(d)))
          : e.values;
    parts.push(`${v} = ANY(${param(ctx, values, `${isBpchar(e.operand) ? 'bpchar' : PARAM_CAST[e.elemType]}[]`)})`);
  }
  if (e.hasNull) parts.push(`${v} IS NULL`);
  if (parts.length === 0) return 'false';
  if (parts.length === 2) return `(${parts[0]} OR ${parts[1]})`;
  const only = parts[0]!;
  return exact && e.operand.nullable && !e.hasNull ? `coalesce(${only}, false)` : `(${only})`;
}

/** The WHERE condition of a planned $filter. */
export function compileFilter(e: TypedExpr, ctx: SqlContext): string {
  if (e.kind === 'null') return 'false';
  return compileBool(e, ctx, false);
}

export interface OrderValueSql {
  /** SQL text of the sort value */
  readonly sql: string;
  readonly nullable: boolean;
  /** the PostgreSQL type to cast a text value of this expression back to (for keyset paging) */
  readonly cast: string;
  readonly type: EdmType;
}

/** The value expression of one $orderby item, for ORDER BY and for keyset paging. */
export function compileOrderValue(item: TypedOrderItem, ctx: SqlContext): OrderValueSql {
  return { sql: compileValue(item.expr, ctx), nullable: item.nullable, cast: PARAM_CAST[item.type], type: item.type };
}

/** The ORDER BY list (without the words ORDER BY), with OData's null ordering. */
export function compileOrderBy(items: readonly TypedOrderItem[], ctx: SqlContext): string {
  return items
    .map((it) => {
      const v = compileValue(it.expr, ctx);
      if (!it.nullable) return it.desc ? `${v} DESC` : v;
      return it.desc ? `${v} DESC NULLS LAST` : `${v} ASC NULLS FIRST`;
    })
    .join(', ');
}

function searchTerm(s: Extract<TypedSearch, { kind: 'term' }>, ctx: SqlContext, exact: boolean): string {
  ctx.params.push(`%${escapeLike(s.text)}%`);
  const p = `$${ctx.params.length}::text`;
  const ors = s.columns.map((c) => {
    const ref = `${ident(ctx.alias)}.${ident(c.dbName)}`;
    return `${c.pg === 'text' ? ref : `${ref}::text`} LIKE ${p}`;
  });
  const any = ors.length === 1 ? ors[0]! : ors.join(' OR ');
  // a null column does not contain the term: under NOT the condition must be false, not NULL
  return exact && s.columns.some((c) => c.nullable) ? `coalesce(${any}, false)` : `(${any})`;
}

function search(s: TypedSearch, ctx: SqlContext, exact: boolean): string {
  switch (s.kind) {
    case 'term':
      return searchTerm(s, ctx, exact);
    case 'and':
    case 'or':
      return `(${search(s.left, ctx, exact)} ${s.kind === 'and' ? 'AND' : 'OR'} ${search(s.right, ctx, exact)})`;
    case 'not':
      return `(NOT ${search(s.operand, ctx, true)})`;
    default:
      return assertNever(s, 'search expression');
  }
}

/** The WHERE condition of a planned $search: case-sensitive substring match on the searchable columns. */
export function compileSearch(s: TypedSearch, ctx: SqlContext): string {
  return search(s, ctx, false);
}
