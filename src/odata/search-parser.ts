/**
 * Parser for $search (OData 4.01 URL Conventions 5.1.7, ABNF searchExpr): words, "double-quoted phrases"
 * (backslash escapes \" and \\), the uppercase operators NOT, AND, OR, implicit AND between adjacent
 * terms, and parentheses. NOT binds tightest, then AND, then OR. AND, OR and NOT are operators only where
 * an operator can stand and a term follows; elsewhere they are words. Produces filter-ast.ts's SearchExpr.
 */
import type { ParseLimits, SearchExpr } from './filter-ast.js';
import { DEFAULT_LIMITS } from './filter-ast.js';
import { isWs, ParserBase } from './parser-base.js';
import { readQuoted } from './literal.js';

const OPTION = '$search';

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && !isWs(ch) && ch !== '(' && ch !== ')' && ch !== '"';
}

class SearchParser extends ParserBase {
  constructor(src: string, limits: ParseLimits) {
    super(src, OPTION, limits);
  }

  /**
   * Is the operator `op` at p: the word, whitespace, then a term? Otherwise the word is a search word
   * (ABNF test cases: `$search=AND`, `OR AND`, `NOT NOT`, `AND OR NOT` are words where no term follows).
   */
  private opAt(p: number, op: 'AND' | 'OR' | 'NOT'): boolean {
    if (!this.src.startsWith(op, p) || !isWs(this.src[p + op.length])) return false;
    let q = p + op.length;
    while (isWs(this.src[q])) q++;
    return q < this.src.length && this.src[q] !== ')';
  }

  parseOr(): SearchExpr {
    this.enter();
    let left = this.parseAnd();
    for (;;) {
      const save = this.pos;
      if (this.skipWs() === 0 || !this.opAt(this.pos, 'OR')) {
        this.pos = save;
        break;
      }
      this.pos += 2;
      this.skipWs();
      const right = this.parseAnd();
      left = this.node({ kind: 'or', left, right });
    }
    this.depth--;
    return left;
  }

  private parseAnd(): SearchExpr {
    let left = this.parseUnary();
    for (;;) {
      const save = this.pos;
      if (this.skipWs() === 0) break;
      const ch = this.src[this.pos];
      if (ch === undefined || ch === ')' || this.opAt(this.pos, 'OR')) {
        this.pos = save;
        break;
      }
      if (this.opAt(this.pos, 'AND')) {
        this.pos += 3;
        this.skipWs();
      }
      const right = this.parseUnary();
      left = this.node({ kind: 'and', left, right });
    }
    return left;
  }

  private parseUnary(): SearchExpr {
    if (this.opAt(this.pos, 'NOT')) {
      this.pos += 3;
      this.skipWs();
      this.enter();
      const operand = this.parseUnary();
      this.depth--;
      return this.node({ kind: 'not', operand });
    }
    return this.parsePrimary();
  }

  private parsePrimary(): SearchExpr {
    const start = this.pos;
    const ch = this.src[this.pos];
    if (ch === undefined) throw this.fail('expected a search term');
    if (ch === '(') {
      this.pos++;
      this.skipWs();
      const e = this.parseOr();
      this.skipWs();
      if (this.src[this.pos] !== ')') throw this.fail('expected ")"');
      this.pos++;
      this.endOfTerm();
      return e;
    }
    if (ch === '"') {
      let text = '';
      this.pos++;
      for (;;) {
        const c = this.src[this.pos];
        if (c === undefined) throw this.fail('unterminated phrase', start);
        if (c === '"') break;
        if (c === '\\') {
          const n = this.src[this.pos + 1];
          if (n !== '"' && n !== '\\') throw this.fail('a backslash in a phrase must escape " or \\');
          text += n;
          this.pos += 2;
          continue;
        }
        text += c;
        this.pos++;
      }
      this.pos++;
      if (text.length === 0) throw this.fail('empty phrase', start);
      this.endOfTerm();
      return this.node({ kind: 'phrase', text });
    }
    if (ch === ')') throw this.fail('unexpected ")"');
    if (isWs(ch)) throw this.fail('unexpected whitespace');
    if (ch === "'") {
      // searchExpr-incomplete: a single-quoted string, taken as a phrase
      let text: string;
      try {
        ({ value: text, end: this.pos } = readQuoted(this.src, this.pos));
      } catch {
        throw this.fail('unterminated quoted string', start);
      }
      if (text.length === 0) throw this.fail('empty phrase', start);
      this.endOfTerm();
      return this.node({ kind: 'phrase', text });
    }
    while (isWordChar(this.src[this.pos])) this.pos++;
    const word = this.src.slice(start, this.pos);
    if (this.src[this.pos] === '"') throw this.fail('a phrase must be separated from a word by whitespace');
    return this.node({ kind: 'term', text: word });
  }

  /** After a phrase or a group, only whitespace, ")" or the end may follow. */
  private endOfTerm(): void {
    const c = this.src[this.pos];
    if (c !== undefined && !isWs(c) && c !== ')') throw this.fail('expected whitespace after a phrase or group');
  }
}

/** Parses a $search value (percent-decoded). */
export function parseSearch(text: string, limits: ParseLimits = DEFAULT_LIMITS): SearchExpr {
  const p = new SearchParser(text, limits);
  while (isWs(text[p.pos])) p.pos++;
  if (p.pos >= text.length) throw p.fail('the $search value is empty');
  const e = p.parseOr();
  while (isWs(text[p.pos])) p.pos++;
  if (p.pos < text.length) throw p.fail('unexpected input');
  return e;
}
