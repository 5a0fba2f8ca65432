/**
 * The typed expression tree that plan/ produces from the name-only AST: every property is a catalog
 * Column, every node carries its Edm type and whether it may be null, literals are already coerced to the
 * type they are compared with. sql/ compiles this tree and never sees an unchecked name.
 */
import type { Column, EdmType } from '../catalog/types.js';
import type { FunctionName } from '../odata/filter-parser.js';

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'divby' | 'mod';

/** A non-null literal value as the text PostgreSQL parses (booleans as JS booleans). */
export type ConstValue = string | boolean;

export type TypedExpr =
  | { readonly kind: 'column'; readonly column: Column; readonly type: EdmType; readonly nullable: boolean }
  | { readonly kind: 'const'; readonly value: ConstValue; readonly type: EdmType; readonly nullable: false }
  /** the null literal; type is the type of what it is compared with, when known */
  | { readonly kind: 'null'; readonly type: EdmType | undefined; readonly nullable: true }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: TypedExpr; readonly right: TypedExpr; readonly type: 'Edm.Boolean'; readonly nullable: false }
  | { readonly kind: 'logical'; readonly op: 'and' | 'or'; readonly left: TypedExpr; readonly right: TypedExpr; readonly type: 'Edm.Boolean'; readonly nullable: boolean }
  | { readonly kind: 'not'; readonly operand: TypedExpr; readonly type: 'Edm.Boolean'; readonly nullable: boolean }
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly left: TypedExpr; readonly right: TypedExpr; readonly type: EdmType; readonly nullable: boolean }
  | { readonly kind: 'negate'; readonly operand: TypedExpr; readonly type: EdmType; readonly nullable: boolean }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly TypedExpr[]; readonly type: EdmType; readonly nullable: boolean }
  /** `operand in (values)`; values are non-null constants of elemType, hasNull when the list held null */
  | {
      readonly kind: 'in';
      readonly operand: TypedExpr;
      readonly values: readonly ConstValue[];
      readonly hasNull: boolean;
      readonly elemType: EdmType;
      readonly type: 'Edm.Boolean';
      readonly nullable: false;
    }
  | { readonly kind: 'cast'; readonly operand: TypedExpr; readonly type: EdmType; readonly nullable: boolean };

export type TypedExprKind = TypedExpr['kind'];

export interface TypedOrderItem {
  readonly expr: TypedExpr;
  readonly desc: boolean;
  readonly type: EdmType;
  readonly nullable: boolean;
}

export type TypedSearch =
  | { readonly kind: 'term'; readonly text: string; readonly columns: readonly Column[] }
  | { readonly kind: 'and' | 'or'; readonly left: TypedSearch; readonly right: TypedSearch }
  | { readonly kind: 'not'; readonly operand: TypedSearch };

export const NUMERIC_RANK = {
  'Edm.Int16': 1,
  'Edm.Int32': 2,
  'Edm.Int64': 3,
  'Edm.Decimal': 4,
  'Edm.Single': 5,
  'Edm.Double': 6,
} as const satisfies Partial<Record<EdmType, number>>;
export type NumericType = keyof typeof NUMERIC_RANK;

export function isNumeric(t: EdmType | undefined): t is NumericType {
  return t !== undefined && Object.hasOwn(NUMERIC_RANK, t);
}

export function isInteger(t: EdmType | undefined): boolean {
  return t === 'Edm.Int16' || t === 'Edm.Int32' || t === 'Edm.Int64';
}

export function widerNumeric(a: NumericType, b: NumericType): NumericType {
  return NUMERIC_RANK[a] >= NUMERIC_RANK[b] ? a : b;
}
