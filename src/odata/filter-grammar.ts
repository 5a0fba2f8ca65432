/**
 * The closed tables of the $filter grammar: infix operators with their precedence, the built-in
 * functions this server evaluates (name -> arity), and the standard ones it recognises but does not
 * evaluate (501). Used by the expression parser and, through FunctionName, by plan/ and sql/.
 */
import type { BinaryOp } from './filter-ast.js';

export const IDENT = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}/u;
export const QUALIFIED = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]*(\.[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]*)*/u;

/** Binding power of the infix operators: higher binds tighter (URL Conventions 5.1.1.15). */
export const INFIX = {
  or: 1,
  and: 2,
  eq: 3,
  ne: 3,
  gt: 4,
  ge: 4,
  lt: 4,
  le: 4,
  add: 5,
  sub: 5,
  mul: 6,
  div: 6,
  divby: 6,
  mod: 6,
  has: 8,
  in: 8,
} as const satisfies Record<BinaryOp | 'in', number>;
export type InfixOp = keyof typeof INFIX;

/** Built-in functions we evaluate, with their [min, max] argument counts. */
export const SUPPORTED_FUNCTIONS = {
  contains: [2, 2],
  startswith: [2, 2],
  endswith: [2, 2],
  length: [1, 1],
  indexof: [2, 2],
  substring: [2, 3],
  tolower: [1, 1],
  toupper: [1, 1],
  trim: [1, 1],
  concat: [2, 2],
  matchesPattern: [2, 2],
  year: [1, 1],
  month: [1, 1],
  day: [1, 1],
  hour: [1, 1],
  minute: [1, 1],
  second: [1, 1],
  fractionalseconds: [1, 1],
  date: [1, 1],
  time: [1, 1],
  totaloffsetminutes: [1, 1],
  now: [0, 0],
  mindatetime: [0, 0],
  maxdatetime: [0, 0],
  round: [1, 1],
  floor: [1, 1],
  ceiling: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;
export type FunctionName = keyof typeof SUPPORTED_FUNCTIONS;

/** Standard functions of the ABNF that are well-formed but not evaluated here: 501. */
export const UNSUPPORTED_FUNCTIONS = new Set(['hassubset', 'hassubsequence', 'totalseconds', 'case']);

