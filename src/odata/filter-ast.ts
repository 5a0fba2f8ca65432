/**
 * The AST of the expression-valued system query options ($filter, $orderby, $search, $select) as the
 * parser produces it: names only, no catalog. Property names are unresolved strings; plan/ turns them into
 * columns. Constructs that are well-formed OData but that this server does not evaluate (lambdas, $it,
 * $root) still get nodes so that the planner can reject them with a 501 naming the feature.
 */
import type { Literal } from './literal.js';

export type BinaryOp =
  | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'
  | 'and' | 'or'
  | 'add' | 'sub' | 'mul' | 'div' | 'divby' | 'mod'
  | 'has';

export type Expr =
  | { readonly kind: 'literal'; readonly value: Literal; readonly pos: number }
  /** a property path: one segment for a property of the entity, more for navigation/complex paths */
  | { readonly kind: 'property'; readonly path: readonly string[]; readonly pos: number }
  /** a parameter alias `@name`, resolved from the URL's other query options at plan time */
  | { readonly kind: 'alias'; readonly name: string; readonly pos: number }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly pos: number }
  /** `x in (lit, lit, ...)` (4.01); `right` is a list of primitive literals */
  | { readonly kind: 'in'; readonly left: Expr; readonly list: readonly Expr[]; readonly pos: number; /** not a parenthesised list: one expression */ readonly single?: true }
  | { readonly kind: 'not'; readonly operand: Expr; readonly pos: number }
  | { readonly kind: 'negate'; readonly operand: Expr; readonly pos: number }
  /** a built-in function call, name lower-cased except matchesPattern (kept as spelled in the spec) */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly pos: number }
  /** cast(expr, Type) / isof(expr, Type); `operand` absent means the single-argument form on $it */
  | { readonly kind: 'cast' | 'isof'; readonly operand: Expr | undefined; readonly typeName: string; readonly pos: number }
  /** `path/any(v: predicate)` / `path/all(v: predicate)`; parsed only to be rejected with 501 */
  | {
      readonly kind: 'lambda';
      readonly op: 'any' | 'all';
      readonly collection: Expr;
      readonly variable: string | undefined;
      readonly predicate: Expr | undefined;
      readonly pos: number;
    }
  /** `$it`, `$root`, `$this` and lambda variables; parsed only to be rejected with 501 */
  | { readonly kind: 'special'; readonly name: string; readonly pos: number };

export type ExprKind = Expr['kind'];

export interface OrderByItem {
  readonly expr: Expr;
  readonly dir: 'asc' | 'desc';
}

export type SearchExpr =
  | { readonly kind: 'term'; readonly text: string }
  | { readonly kind: 'phrase'; readonly text: string }
  | { readonly kind: 'and' | 'or'; readonly left: SearchExpr; readonly right: SearchExpr }
  | { readonly kind: 'not'; readonly operand: SearchExpr };

/** `*` or a property path (only single-segment paths resolve in this flat model) */
export type SelectItem = { readonly kind: 'star' } | { readonly kind: 'property'; readonly path: readonly string[] };

/** Limits that keep hostile input from exhausting the stack or the planner. */
export interface ParseLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxDepth: 50, maxNodes: 500 };
