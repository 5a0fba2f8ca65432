/**
 * Entry points of the query-language parsers: $filter, $orderby, parameter alias values, and (re-exported)
 * $search and $select. Each reads a whole percent-decoded option value with the expression parser of
 * expr-parser.ts and rejects leading, trailing or unexplained text with the position.
 */
import { ODataError } from '../errors/odata-error.js';
import type { Expr, OrderByItem, ParseLimits } from './filter-ast.js';
import { DEFAULT_LIMITS } from './filter-ast.js';
import { ExprParser } from './expr-parser.js';
import { isWs } from './parser-base.js';

export { SUPPORTED_FUNCTIONS, type FunctionName } from './filter-grammar.js';
export { ExprParser } from './expr-parser.js';

function wholeExpr(p: ExprParser): Expr {
  if (p.atEnd()) throw p.fail('the expression is empty');
  if (isWs(p.src[0])) throw p.fail('leading whitespace');
  const e = p.parseExpr();
  if (!p.atEnd()) throw p.fail(isWs(p.src[p.pos]) ? 'unexpected whitespace or unknown operator' : 'unexpected character');
  return e;
}

/** Parses a $filter value (percent-decoded). */
export function parseFilter(text: string, limits: ParseLimits = DEFAULT_LIMITS): Expr {
  return wholeExpr(new ExprParser(text, '$filter', limits));
}

/** Parses a parameter alias value used inside $filter/$orderby, e.g. `'x'` or `5`. */
export function parseAliasValue(name: string, text: string, limits: ParseLimits = DEFAULT_LIMITS): Expr {
  return wholeExpr(new ExprParser(text, `@${name}`, limits));
}

/** Parses an alias value used as the right operand of `in`: `('a','b')` or a single expression. */
export function parseAliasList(name: string, text: string, limits: ParseLimits = DEFAULT_LIMITS): readonly Expr[] {
  const wrapped = `@x in ${text}`;
  const p = new ExprParser(wrapped, `@${name}`, limits);
  const e = wholeExpr(p);
  if (e.kind !== 'in') throw new ODataError('SyntaxError', `The value of @${name} is not a list.`, { target: `@${name}` });
  return e.list;
}

/** Parses a $orderby value: comma-separated expressions each with an optional asc/desc. */
export function parseOrderBy(text: string, limits: ParseLimits = DEFAULT_LIMITS): OrderByItem[] {
  const p = new ExprParser(text, '$orderby', limits);
  if (p.atEnd()) throw p.fail('the $orderby value is empty');
  const items: OrderByItem[] = [];
  for (;;) {
    if (isWs(p.src[p.pos])) throw p.fail('unexpected whitespace');
    const expr = p.parseExpr();
    let dir: 'asc' | 'desc' = 'asc';
    const save = p.pos;
    if (p.skipWs() > 0) {
      const m = /^(asc|desc)(?![\p{L}\p{Nd}_])/iu.exec(p.src.slice(p.pos));
      if (m) {
        dir = m[1]!.toLowerCase() as 'asc' | 'desc';
        p.pos += m[0].length;
      } else {
        p.pos = save;
      }
    }
    items.push({ expr, dir });
    if (p.atEnd()) break;
    if (p.src[p.pos] !== ',') throw p.fail('expected "," or the end of $orderby');
    p.pos++;
    p.skipWs();
  }
  return items;
}

export { parseSearch } from './search-parser.js';
export { parseSelect } from './select-parser.js';

