/**
 * Pure planning of $filter, $orderby, $search and $select: resolves the parser's property names against
 * the entity set's columns, resolves parameter aliases, type-checks every operator and function against
 * Edm types with OData's numeric promotion and literal coercion, and returns the typed trees of
 * typed-expr.ts. Client mistakes are 400s naming the property and the expected type; well-formed features
 * the server does not evaluate (lambdas, $it, single-argument cast/isof, enums) are 501s.
 */
import type { Column, EdmType, EntitySet } from '../catalog/types.js';
import { assertNever, ODataError } from '../errors/odata-error.js';
import type { Expr, OrderByItem, ParseLimits, SearchExpr, SelectItem } from '../odata/filter-ast.js';
import { DEFAULT_LIMITS } from '../odata/filter-ast.js';
import { parseAliasList, parseAliasValue, type FunctionName } from '../odata/filter-parser.js';
import { ARG_CLASSES, SIGNATURES } from './functions.js';
import { coerce, typeLiteral } from './literals.js';
import type { ArithOp, CompareOp, ConstValue, TypedExpr, TypedOrderItem, TypedSearch } from './typed-expr.js';
import { isInteger, isNumeric, widerNumeric } from './typed-expr.js';

export type { TypedExpr, TypedOrderItem, TypedSearch } from './typed-expr.js';

const EDM_TYPES = {
  'Edm.Int16': true,
  'Edm.Int32': true,
  'Edm.Int64': true,
  'Edm.Decimal': true,
  'Edm.Single': true,
  'Edm.Double': true,
  'Edm.Boolean': true,
  'Edm.String': true,
  'Edm.Guid': true,
  'Edm.Date': true,
  'Edm.DateTimeOffset': true,
  'Edm.TimeOfDay': true,
  'Edm.Binary': true,
  'Edm.Duration': true,
} as const satisfies Record<EdmType, true>;

/** Other primitive types of the spec: isof() against them is statically false, cast() to them 501. */
const OTHER_PRIMITIVES = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Stream']);

function mismatch(message: string, target?: string): ODataError {
  return new ODataError('TypeMismatch', message, target ? { target } : {});
}

function describe(e: TypedExpr): string {
  switch (e.kind) {
    case 'column':
      return `property ${e.column.name} (${e.type})`;
    case 'const':
      return `the literal ${JSON.stringify(e.value)} (${e.type})`;
    case 'null':
      return 'null';
    case 'call':
      return `${e.fn}(...) (${e.type})`;
    default:
      return `an expression of type ${e.type ?? 'null'}`;
  }
}

function targetOf(e: TypedExpr): string | undefined {
  return e.kind === 'column' ? e.column.name : undefined;
}

interface Ctx {
  readonly set: EntitySet;
  readonly aliases: ReadonlyMap<string, string>;
  readonly limits: ParseLimits;
  nodes: number;
  readonly resolving: Set<string>;
}

class Planner {
  constructor(private readonly ctx: Ctx) {}

  plan(e: Expr, depth: number): TypedExpr {
    if (depth > this.ctx.limits.maxDepth) {
      throw new ODataError('QueryTooComplex', `The expression is nested deeper than ${this.ctx.limits.maxDepth} levels.`);
    }
    if (++this.ctx.nodes > this.ctx.limits.maxNodes) {
      throw new ODataError('QueryTooComplex', `The expression has more than ${this.ctx.limits.maxNodes} nodes.`);
    }
    const d = depth + 1;
    switch (e.kind) {
      case 'literal':
        return typeLiteral(e.value);
      case 'property':
        return this.property(e.path);
      case 'alias':
        return this.alias(e.name, d);
      case 'binary': {
        // a flat list (a or b or c ...) parses left-deep; its length is not nesting: the left operand of
        // the same operator stays at this depth (the parser bounds parentheses, maxNodes the length)
        const left = this.plan(e.left, e.left.kind === 'binary' && e.left.op === e.op ? depth : d);
        const right = this.plan(e.right, d);
        switch (e.op) {
          case 'and':
          case 'or':
            return this.logical(e.op, left, right);
          case 'eq':
          case 'ne':
          case 'gt':
          case 'ge':
          case 'lt':
          case 'le':
            return this.compare(e.op, left, right);
          case 'add':
          case 'sub':
          case 'mul':
          case 'div':
          case 'divby':
          case 'mod':
            return this.arith(e.op, left, right);
          case 'has':
            throw new ODataError('NotImplemented', 'The "has" operator (enumeration flags) is not supported.');
          default:
            return assertNever(e as never, "binary operator");
        }
      }
      case 'in':
        return this.in(e, d);
      case 'not': {
        const operand = this.plan(e.operand, d);
        this.requireBoolean(operand, 'not');
        return { kind: 'not', operand, type: 'Edm.Boolean', nullable: operand.nullable };
      }
      case 'negate': {
        const operand = this.plan(e.operand, d);
        if (operand.kind === 'null') return operand;
        if (!isNumeric(operand.type) && operand.type !== 'Edm.Duration') {
          throw mismatch(`The operand of "-" must be numeric or Edm.Duration, but ${describe(operand)} is not.`, targetOf(operand));
        }
        return { kind: 'negate', operand, type: operand.type, nullable: operand.nullable };
      }
      case 'call':
        return this.call(e.name as FunctionName, e.args.map((a) => this.plan(a, d)));
      case 'cast':
      case 'isof':
        return this.castIsof(e.kind, e.operand, e.typeName, d);
      case 'lambda':
        throw new ODataError('NotImplemented', `The lambda operator "${e.op}" is not supported.`, { target: e.op });
      case 'special':
        throw new ODataError('NotImplemented', `"${e.name}" is not supported.`);
      default:
        return assertNever(e, 'expression');
    }
  }

  private property(path: readonly string[]): TypedExpr {
    const name = path.join('/');
    const col = path.length === 1 ? this.ctx.set.columnsByName.get(path[0]!) : undefined;
    if (!col) {
      throw new ODataError('UnknownProperty', `Property "${name}" does not exist on ${this.ctx.set.name}.`, { target: name });
    }
    return { kind: 'column', column: col, type: col.edm, nullable: col.nullable };
  }

  private aliasText(name: string): string | undefined {
    return this.ctx.aliases.get(`@${name}`) ?? this.ctx.aliases.get(name);
  }

  private alias(name: string, depth: number): TypedExpr {
    const text = this.aliasText(name);
    // URL Conventions 5.1.3: an alias without a value is null
    if (text === undefined) return { kind: 'null', type: undefined, nullable: true };
    if (this.ctx.resolving.has(name)) throw new ODataError('BadRequest', `Parameter alias @${name} refers to itself.`, { target: `@${name}` });
    this.ctx.resolving.add(name);
    try {
      return this.plan(parseAliasValue(name, text, this.ctx.limits), depth);
    } finally {
      this.ctx.resolving.delete(name);
    }
  }

  private requireBoolean(e: TypedExpr, what: string): void {
    if (e.kind === 'null' || e.type === 'Edm.Boolean') return;
    throw mismatch(`The operand of "${what}" must be Edm.Boolean, but ${describe(e)} is not.`, targetOf(e));
  }

  private logical(op: 'and' | 'or', left: TypedExpr, right: TypedExpr): TypedExpr {
    this.requireBoolean(left, op);
    this.requireBoolean(right, op);
    return { kind: 'logical', op, left, right, type: 'Edm.Boolean', nullable: left.nullable || right.nullable };
  }

  /** Coerces literals to each other's type and checks that the two sides are comparable. */
  private unify(op: string, left: TypedExpr, right: TypedExpr): [TypedExpr, TypedExpr] {
    let l = left;
    let r = right;
    if (r.type !== undefined) l = coerce(l, r.type);
    if (l.type !== undefined) r = coerce(r, l.type);
    if (l.type === undefined || r.type === undefined || l.type === r.type) return [l, r];
    if (isNumeric(l.type) && isNumeric(r.type)) return [l, r];
    const dates = new Set<EdmType>(['Edm.Date', 'Edm.DateTimeOffset']);
    if (dates.has(l.type) && dates.has(r.type)) return [l, r];
    const col = l.kind === 'column' ? l : r.kind === 'column' ? r : undefined;
    const other = col === l ? r : l;
    if (col) {
      throw mismatch(`Property ${col.column.name} is ${col.type} and cannot be used with ${describe(other)} in "${op}".`, col.column.name);
    }
    throw mismatch(`Cannot apply "${op}" to ${describe(l)} and ${describe(r)}.`);
  }

  private compare(op: CompareOp, left: TypedExpr, right: TypedExpr): TypedExpr {
    const [l, r] = this.unify(op, left, right);
    return { kind: 'compare', op, left: l, right: r, type: 'Edm.Boolean', nullable: false };
  }

  private arith(op: ArithOp, left: TypedExpr, right: TypedExpr): TypedExpr {
    let l = left;
    let r = right;
    if (isNumeric(l.type) && r.kind !== 'column' && isNumeric(r.type)) r = coerce(r, l.type);
    if (isNumeric(r.type) && l.kind !== 'column' && isNumeric(l.type)) l = coerce(l, r.type);
    if (l.type === undefined && r.type !== undefined) l = coerce(l, r.type);
    if (r.type === undefined && l.type !== undefined) r = coerce(r, l.type);
    const nullable = l.nullable || r.nullable;
    const lt = l.type;
    const rt = r.type;
    if (lt === undefined || rt === undefined) {
      // null op null: null of unknown numeric type
      return { kind: 'null', type: undefined, nullable: true };
    }
    const node = (type: EdmType): TypedExpr => ({ kind: 'arith', op, left: l, right: r, type, nullable });
    if (isNumeric(lt) && isNumeric(rt)) {
      const wide = widerNumeric(lt, rt);
      if (op === 'divby') return node(wide === 'Edm.Single' || wide === 'Edm.Double' ? 'Edm.Double' : 'Edm.Decimal');
      return node(wide);
    }
    const bad = (): never => {
      const col = l.kind === 'column' ? l : r.kind === 'column' ? r : undefined;
      throw mismatch(`Cannot apply "${op}" to ${describe(l)} and ${describe(r)}.`, col ? targetOf(col) : undefined);
    };
    if (op === 'add' || op === 'sub') {
      const dt = lt === 'Edm.DateTimeOffset' || lt === 'Edm.Date';
      if (dt && rt === 'Edm.Duration') return node(lt);
      if (op === 'add' && lt === 'Edm.Duration' && (rt === 'Edm.DateTimeOffset' || rt === 'Edm.Date')) return node(rt);
      if (lt === 'Edm.Duration' && rt === 'Edm.Duration') return node('Edm.Duration');
      if (op === 'sub' && dt && lt === rt) return node('Edm.Duration');
    }
    // a Duration times or divided by a number (URL Conventions 5.1.1.2.3-5)
    if ((op === 'mul' && ((lt === 'Edm.Duration' && isNumeric(rt)) || (isNumeric(lt) && rt === 'Edm.Duration'))) || ((op === 'div' || op === 'divby') && lt === 'Edm.Duration' && isNumeric(rt))) return node('Edm.Duration');
    return bad();
  }

  private in(e: Extract<Expr, { kind: 'in' }>, depth: number): TypedExpr {
    const operand = this.plan(e.left, depth);
    let list = e.list;
    // one expression on the right must be a collection: here only an alias of a list can be one
    if (e.single && list[0]!.kind !== 'alias') throw mismatch('The right operand of "in" must be a list, such as (1,2), or a parameter alias of one.');
    if (list.length === 1 && list[0]!.kind === 'alias') {
      const text = this.aliasText(list[0]!.name);
      list = text === undefined ? [list[0]!] : parseAliasList(list[0]!.name, text, this.ctx.limits);
    }
    const items = list.map((x) => this.plan(x, depth));
    if (operand.type === 'Edm.Binary' || operand.type === undefined) {
      if (operand.type === undefined) {
        // null in (...): true iff the list holds null
        const hasNull = items.some((i) => i.kind === 'null');
        return { kind: 'const', value: hasNull, type: 'Edm.Boolean', nullable: false };
      }
    }
    const values: ConstValue[] = [];
    let hasNull = false;
    for (const raw of items) {
      const it = coerce(raw, operand.type);
      if (it.kind === 'null') {
        hasNull = true;
        continue;
      }
      if (it.kind !== 'const') {
        throw new ODataError('NotImplemented', 'The right operand of "in" must be a list of literals.');
      }
      const ok = it.type === operand.type || (isNumeric(it.type) && isNumeric(operand.type) && (!isInteger(operand.type) || isInteger(it.type)));
      if (!ok) {
        throw mismatch(`The list of "in" holds ${describe(it)}, which does not match ${describe(operand)}.`, targetOf(operand));
      }
      values.push(it.value);
    }
    return { kind: 'in', operand, values, hasNull, elemType: operand.type, type: 'Edm.Boolean', nullable: false };
  }

  private call(fn: FunctionName, args: readonly TypedExpr[]): TypedExpr {
    const sig = SIGNATURES[fn];
    const typed: TypedExpr[] = [];
    args.forEach((a, i) => {
      const cls = ARG_CLASSES[sig.args[i]!];
      const arg = cls.coerceTo !== undefined ? coerce(a, cls.coerceTo) : a;
      if (arg.kind !== 'null' && !(cls.accepts as readonly EdmType[]).includes(arg.type!)) {
        const where = arg.kind === 'column' ? `property ${arg.column.name} is ${arg.type}` : `${describe(arg)} was given`;
        throw mismatch(`Argument ${i + 1} of ${fn} must be ${cls.describe}, but ${where}.`, targetOf(arg));
      }
      typed.push(arg);
    });
    let type: EdmType;
    if (sig.result === 'same') {
      const a0 = typed[0]!;
      if (a0.kind === 'null') return a0;
      type = a0.type!;
    } else {
      type = sig.result;
    }
    return { kind: 'call', fn, args: typed, type, nullable: typed.some((a) => a.nullable) };
  }

  private castIsof(kind: 'cast' | 'isof', operandAst: Expr | undefined, typeName: string, depth: number): TypedExpr {
    if (operandAst === undefined) {
      throw new ODataError('NotImplemented', `${kind}() with a single argument (applied to $it) is not supported.`);
    }
    const operand = this.plan(operandAst, depth);
    const known = Object.hasOwn(EDM_TYPES, typeName);
    if (!known && !OTHER_PRIMITIVES.has(typeName)) {
      if (typeName.startsWith('Edm.')) throw new ODataError('NotImplemented', `${kind}() to ${typeName} is not supported.`);
      throw new ODataError('NotImplemented', `${kind}() to the structured or enumeration type ${typeName} is not supported.`);
    }
    // isof: of the type (our model is flat: statically), or a value the cast rules turn into it
    if (kind === 'isof' && (!known || operand.type === typeName || operand.kind === 'null')) return { kind: 'const', value: known && operand.type === typeName, type: 'Edm.Boolean', nullable: false };
    if (!known) throw new ODataError('NotImplemented', `cast() to ${typeName} is not supported.`);
    const target = typeName as EdmType;
    if (operand.kind === 'null') return { kind: 'null', type: target, nullable: true };
    if (operand.type === target) return operand;
    const cast: TypedExpr = { kind: 'cast', operand, type: target, nullable: true };
    return kind === 'cast' ? cast : { kind: 'compare', op: 'ne', left: cast, right: { kind: 'null', type: target, nullable: true }, type: 'Edm.Boolean', nullable: false };
  }
}

function planner(set: EntitySet, aliases: ReadonlyMap<string, string>, limits: ParseLimits): Planner {
  return new Planner({ set, aliases, limits, nodes: 0, resolving: new Set() });
}

/** Plans a parsed $filter: the result must be Edm.Boolean (or the null literal, which matches nothing). */
export function planFilter(
  expr: Expr,
  set: EntitySet,
  aliases: ReadonlyMap<string, string> = new Map(),
  limits: ParseLimits = DEFAULT_LIMITS,
): TypedExpr {
  const t = planner(set, aliases, limits).plan(expr, 0);
  if (t.kind !== 'null' && t.type !== 'Edm.Boolean') {
    throw mismatch(`$filter must be a Boolean expression, but it is ${describe(t)}.`, targetOf(t) ?? '$filter');
  }
  return t;
}

/** Plans a parsed $orderby. */
export function planOrderBy(
  items: readonly OrderByItem[],
  set: EntitySet,
  aliases: ReadonlyMap<string, string> = new Map(),
  limits: ParseLimits = DEFAULT_LIMITS,
): TypedOrderItem[] {
  const p = planner(set, aliases, limits);
  return items.map((it) => {
    const expr = p.plan(it.expr, 0);
    if (expr.type === undefined) throw mismatch('$orderby by the null literal is meaningless.', '$orderby');
    return { expr, desc: it.dir === 'desc', type: expr.type, nullable: expr.nullable };
  });
}

/** Plans a parsed $search over the entity set's searchable columns. */
export function planSearch(s: SearchExpr, set: EntitySet): TypedSearch {
  if (set.searchable.length === 0) {
    throw new ODataError('BadRequest', `Entity set ${set.name} has no searchable columns, so $search cannot be used on it.`, { target: '$search' });
  }
  const go = (x: SearchExpr): TypedSearch => {
    switch (x.kind) {
      case 'term':
      case 'phrase':
        return { kind: 'term', text: x.text, columns: set.searchable };
      case 'and':
      case 'or':
        return { kind: x.kind, left: go(x.left), right: go(x.right) };
      case 'not':
        return { kind: 'not', operand: go(x.operand) };
      default:
        return assertNever(x, 'search expression');
    }
  };
  return go(s);
}

/** Plans a parsed $select: the chosen columns, without duplicates, in the entity type's order. */
export function planSelect(items: readonly SelectItem[], set: EntitySet): Column[] {
  const chosen = new Set<Column>();
  for (const it of items) {
    switch (it.kind) {
      case 'star':
        for (const c of set.columns) chosen.add(c);
        break;
      case 'property': {
        const name = it.path.join('/');
        const col = it.path.length === 1 ? set.columnsByName.get(it.path[0]!) : undefined;
        if (!col) throw new ODataError('UnknownProperty', `Property "${name}" does not exist on ${set.name}.`, { target: name });
        chosen.add(col);
        break;
      }
      default:
        assertNever(it, 'select item');
    }
  }
  return set.columns.filter((c) => chosen.has(c));
}
