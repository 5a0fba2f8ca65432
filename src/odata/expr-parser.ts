/**
 * Hand-written recursive-descent parser for $filter and $orderby (OData 4.01 URL Conventions 5.1.1 and
 * the ABNF's commonExpr), producing the name-only AST of filter-ast.ts. Input is the percent-decoded
 * option value. Binary operators are read by precedence climbing; whitespace is significant as in the
 * ABNF (operators need whitespace on both sides, none is allowed before or after the whole expression).
 * Well-formed constructs that the server does not evaluate either get an AST node (lambdas, isof/cast
 * without operand) for the planner to reject, or are rejected here with 501 when they cannot be
 * represented (JSON arrays, enum and geo literals, $root, annotations, bound functions).
 * See docs/decisions.md "## $filter parser" for why odata-v4-parser is not used.
 */
import { ODataError } from '../errors/odata-error.js';
import { matchLiteral } from './literal.js';
import { isWs, ParserBase } from './parser-base.js';
import type { Expr, ParseLimits } from './filter-ast.js';
import { DEFAULT_LIMITS } from './filter-ast.js';
import { IDENT, INFIX, QUALIFIED, SUPPORTED_FUNCTIONS, UNSUPPORTED_FUNCTIONS, type FunctionName, type InfixOp } from './filter-grammar.js';

function notImplemented(what: string, option: string): ODataError {
  return new ODataError('NotImplemented', `${what} is not supported in ${option}.`, { target: option });
}

export class ExprParser extends ParserBase {
  constructor(src: string, option: string, limits: ParseLimits = DEFAULT_LIMITS) {
    super(src, option, limits);
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }


  expect(ch: string): void {
    if (this.src[this.pos] !== ch) throw this.fail(`expected "${ch}"`);
    this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  /** Reads the keyword `word` (case-insensitive) at pos if it is followed by a non-identifier char. */
  private keywordAt(pos: number): string | undefined {
    const m = /^[A-Za-z]+/.exec(this.src.slice(pos, pos + 8));
    if (!m) return undefined;
    const next = this.src[pos + m[0].length];
    if (next !== undefined && /[\p{L}\p{Nd}_.]/u.test(next)) return undefined;
    return m[0].toLowerCase();
  }

  /** Looks for `RWS op RWS` (or `RWS in BWS (`) at pos; returns the operator without consuming it. */
  private peekInfix(): { op: InfixOp; end: number } | undefined {
    let p = this.pos;
    if (!isWs(this.src[p])) return undefined;
    while (isWs(this.src[p])) p++;
    const word = this.keywordAt(p);
    if (word === undefined || !Object.hasOwn(INFIX, word)) return undefined;
    let q = p + word.length;
    if (!isWs(this.src[q])) return undefined;
    while (isWs(this.src[q])) q++;
    return { op: word as InfixOp, end: q };
  }

  parseExpr(minPrec = 0): Expr {
    this.enter();
    let left = this.parseUnary();
    for (;;) {
      const inf = this.peekInfix();
      if (!inf || INFIX[inf.op] <= minPrec) break;
      const opPos = this.pos;
      this.pos = inf.end;
      if (inf.op === 'in') {
        left = this.parseInRight(left, opPos);
        continue;
      }
      if (inf.op === 'has') {
        // the right operand of has is an enumeration literal: enums are not supported
        throw notImplemented('The "has" operator (enumeration flags)', this.option);
      }
      const right = this.parseExpr(INFIX[inf.op]);
      left = this.node({ kind: 'binary', op: inf.op, left, right, pos: opPos });
    }
    this.depth--;
    return left;
  }

  /** After `in`: a parenthesised list of literals, or any other expression (an alias, a path). */
  private parseInRight(left: Expr, opPos: number): Expr {
    if (this.peek() === '(') {
      const save = this.pos;
      const list = this.tryLiteralList();
      if (list) return this.node({ kind: 'in', left, list, pos: opPos });
      this.pos = save;
    }
    if (this.peek() === '[') throw notImplemented('A JSON array after "in"', this.option);
    const right = this.parseExpr(INFIX.in);
    return this.node({ kind: 'in', left, list: [right], single: true, pos: opPos });
  }

  /** `( [literal *( , literal )] )` with BWS; undefined when it is a parenthesised expression instead. */
  private tryLiteralList(): Expr[] | undefined {
    this.pos++; // (
    this.skipWs();
    const items: Expr[] = [];
    if (this.peek() === ')') {
      this.pos++;
      return items;
    }
    for (;;) {
      const at = this.pos;
      const m = this.literalAt();
      if (!m) return undefined;
      this.pos = m.end;
      this.skipWs();
      items.push(this.node({ kind: 'literal', value: m.literal, pos: at }));
      const ch = this.peek();
      if (ch === ')') {
        this.pos++;
        return items;
      }
      if (ch !== ',') return undefined;
      this.pos++;
      this.skipWs();
    }
  }

  private literalAt(): ReturnType<typeof matchLiteral> {
    const m = matchLiteral(this.src, this.pos);
    if (m && m.literal.kind === 'string') return m;
    if (m) {
      // a typed literal like duration'..' must not be confused with a name; plain words are literals only
      // when the next char cannot continue an identifier or path
      const next = this.src[m.end];
      if (next === '/' || next === '(') return undefined;
    }
    return m;
  }

  private parseUnary(): Expr {
    const start = this.pos;
    const ch = this.peek();
    if (ch === undefined) throw this.fail('expected an expression');
    if (ch === '-') {
      const m = this.literalAt();
      if (m && m.literal.kind !== 'string') {
        this.pos = m.end;
        return this.node({ kind: 'literal', value: m.literal, pos: start });
      }
      this.pos++;
      this.skipWs();
      this.enter();
      const operand = this.parsePostfixIn(this.parseUnary());
      this.depth--;
      return this.node({ kind: 'negate', operand, pos: start });
    }
    const word = this.keywordAt(this.pos);
    if (word === 'not' && (isWs(this.src[this.pos + 3]) || this.src[this.pos + 3] === '(')) {
      this.pos += 3;
      this.skipWs();
      this.enter();
      const operand = this.parsePostfixIn(this.parseUnary());
      this.depth--;
      return this.node({ kind: 'not', operand, pos: start });
    }
    return this.parsePrimary();
  }

  /**
   * `in` and `has` are primary operators (URL Conventions 5.1.1.15): they bind tighter than the unary
   * `not` and `-`, so `not f in (true)` is `not (f in (true))`.
   */
  private parsePostfixIn(operand: Expr): Expr {
    let e = operand;
    for (;;) {
      const inf = this.peekInfix();
      if (!inf || (inf.op !== 'in' && inf.op !== 'has')) return e;
      const opPos = this.pos;
      this.pos = inf.end;
      if (inf.op === 'has') throw notImplemented('The "has" operator (enumeration flags)', this.option);
      e = this.parseInRight(e, opPos);
    }
  }

  private parsePrimary(): Expr {
    const start = this.pos;
    const ch = this.peek()!;
    if (ch === '(') {
      this.pos++;
      this.skipWs();
      const e = this.parseExpr();
      this.skipWs();
      if (this.peek() === ',') throw this.fail('a list is allowed only after "in"');
      this.expect(')');
      return e;
    }
    if (ch === '[' || ch === '{') throw notImplemented('JSON arrays and objects', this.option);
    if (ch === '@') {
      this.pos++;
      const id = IDENT.exec(this.src.slice(this.pos));
      if (!id) throw this.fail('expected a parameter alias name after "@"');
      this.pos += id[0].length;
      if (this.peek() === '/' || this.peek() === '.') throw notImplemented('A path after a parameter alias', this.option);
      return this.node({ kind: 'alias', name: id[0], pos: start });
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z]+/.exec(this.src.slice(this.pos));
      const name = m?.[0] ?? '$';
      if (name === '$it' || name === '$root' || name === '$this') {
        throw notImplemented(`"${name}"`, this.option);
      }
      throw this.fail(`unexpected "${name}"`);
    }
    if (ch === "'" || /[0-9+-]/.test(ch)) {
      const m = this.literalAt();
      if (m) {
        this.pos = m.end;
        return this.node({ kind: 'literal', value: m.literal, pos: start });
      }
    }
    const q = QUALIFIED.exec(this.src.slice(this.pos));
    if (!q) throw this.fail('expected an expression');
    const name = q[0];
    const after = this.src[this.pos + name.length];
    if (after === "'") return this.parseTypedLiteral(name, start);
    if (!name.includes('.')) {
      const lit = this.literalAt();
      if (lit && lit.end === this.pos + name.length) {
        this.pos = lit.end;
        return this.node({ kind: 'literal', value: lit.literal, pos: start });
      }
      // GUIDs and similar literals that start with letters (hex) are longer than the identifier
      if (lit && /^[0-9A-Fa-f]{8}-/.test(this.src.slice(this.pos))) {
        this.pos = lit.end;
        return this.node({ kind: 'literal', value: lit.literal, pos: start });
      }
    } else if (/^[0-9]/.test(name)) {
      throw this.fail('expected an expression');
    }
    if (after === '(') return this.parseCall(name, start);
    if (name.includes('.')) {
      if (after === '/') throw notImplemented(`The type cast segment "${name}"`, this.option);
      throw this.fail(`"${name}" must be followed by a parameter list or a path`, this.pos + name.length);
    }
    return this.parsePath(start);
  }

  private parseTypedLiteral(prefix: string, start: number): Expr {
    const lower = prefix.toLowerCase();
    if (['duration', 'binary', 'x', 'guid', 'datetimeoffset', 'date', 'timeofday'].includes(lower)) {
      const m = matchLiteral(this.src, this.pos);
      if (!m) throw this.fail('invalid literal');
      this.pos = m.end;
      return this.node({ kind: 'literal', value: m.literal, pos: start });
    }
    if (lower.startsWith('geography') || lower.startsWith('geometry')) throw notImplemented('Geographic literals', this.option);
    if (prefix.includes('.')) throw notImplemented('Enumeration literals', this.option);
    throw this.fail(`unknown literal prefix "${prefix}"`);
  }

  /** A property path `a/b/c`, possibly ending in a lambda `any(...)`/`all(...)`. */
  private parsePath(start: number): Expr {
    const path: string[] = [];
    for (;;) {
      const segPos = this.pos;
      const id = IDENT.exec(this.src.slice(this.pos));
      if (!id) {
        const sys = /^\$[A-Za-z]+/.exec(this.src.slice(this.pos));
        if (sys && path.length > 0) throw notImplemented(`The path segment "${sys[0]}"`, this.option);
        if (this.peek() === '@') throw notImplemented('Annotations in expressions', this.option);
        throw this.fail('expected a property name', segPos);
      }
      const seg = id[0];
      const next = this.src[this.pos + seg.length];
      if (next === '.') {
        const q = QUALIFIED.exec(this.src.slice(this.pos))![0];
        if (path.length === 0) throw this.fail('unexpected qualified name');
        this.pos += q.length;
        throw notImplemented(`The bound function or type cast "${q}"`, this.option);
      }
      if (next === '(' && path.length > 0 && (seg === 'any' || seg === 'all')) {
        const collection = this.node<Expr>({ kind: 'property', path, pos: start });
        this.pos += seg.length;
        return this.parseLambda(seg, collection, start);
      }
      if (next === '(') {
        if (path.length === 0) throw this.fail(`unknown function "${seg}"`, segPos);
        throw notImplemented(`The function or key segment "${seg}(...)" in a path`, this.option);
      }
      this.pos += seg.length;
      path.push(seg);
      if (this.peek() !== '/') break;
      this.pos++;
    }
    return this.node({ kind: 'property', path, pos: start });
  }

  private parseLambda(op: 'any' | 'all', collection: Expr, start: number): Expr {
    this.expect('(');
    this.skipWs();
    if (this.peek() === ')') {
      if (op === 'all') throw this.fail('all() needs a lambda expression');
      this.pos++;
      return this.node({ kind: 'lambda', op, collection, variable: undefined, predicate: undefined, pos: start });
    }
    const id = IDENT.exec(this.src.slice(this.pos));
    if (!id) throw this.fail('expected a lambda variable');
    this.pos += id[0].length;
    this.skipWs();
    this.expect(':');
    this.skipWs();
    const predicate = this.parseExpr();
    this.skipWs();
    this.expect(')');
    return this.node({ kind: 'lambda', op, collection, variable: id[0], predicate, pos: start });
  }

  private parseCall(name: string, start: number): Expr {
    const lower = name.toLowerCase();
    const callName = lower === 'matchespattern' ? 'matchesPattern' : lower;
    if (name.includes('.')) {
      if (lower.startsWith('geo.')) throw notImplemented(`The function "${name}"`, this.option);
      throw notImplemented(`The custom function "${name}"`, this.option);
    }
    if (lower === 'cast' || lower === 'isof') return this.parseCastIsof(lower, start);
    if (lower === 'any' || lower === 'all') throw this.fail(`"${name}" needs a collection path before it`, this.pos + name.length);
    if (UNSUPPORTED_FUNCTIONS.has(lower)) throw notImplemented(`The function "${name}"`, this.option);
    if (!Object.hasOwn(SUPPORTED_FUNCTIONS, callName)) {
      throw new ODataError('UnknownFunction', `Unknown function "${name}" at position ${start} of ${this.option}.`, { target: this.option });
    }
    this.pos += name.length + 1;
    this.skipWs();
    const args: Expr[] = [];
    if (this.peek() !== ')') {
      for (;;) {
        args.push(this.parseExpr());
        this.skipWs();
        if (this.peek() !== ',') break;
        this.pos++;
        this.skipWs();
      }
    }
    this.expect(')');
    const [min, max] = SUPPORTED_FUNCTIONS[callName as FunctionName];
    if (args.length < min || args.length > max) {
      throw this.fail(`${callName} takes ${min === max ? min : `${min} or ${max}`} argument(s), not ${args.length}`, start);
    }
    return this.node({ kind: 'call', name: callName, args, pos: start });
  }

  private parseCastIsof(kind: 'cast' | 'isof', start: number): Expr {
    this.pos += kind.length + 1;
    this.skipWs();
    // single-argument form: cast(Type) applies to $it
    const q = QUALIFIED.exec(this.src.slice(this.pos));
    if (q) {
      let p = this.pos + q[0].length;
      while (isWs(this.src[p])) p++;
      if (this.src[p] === ')') {
        this.pos = p + 1;
        return this.node({ kind, operand: undefined, typeName: q[0], pos: start });
      }
    }
    const operand = this.parseExpr();
    this.skipWs();
    this.expect(',');
    this.skipWs();
    const t = QUALIFIED.exec(this.src.slice(this.pos));
    if (!t) throw this.fail('expected a type name');
    this.pos += t[0].length;
    this.skipWs();
    this.expect(')');
    return this.node({ kind, operand, typeName: t[0], pos: start });
  }
}
