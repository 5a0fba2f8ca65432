/**
 * What the $filter/$orderby expression parser and the $search parser share: the cursor, whitespace, the
 * syntax error with its position, and the depth and node-count limits that keep hostile input (deep
 * nesting, huge expressions) from exhausting the stack or the planner.
 */
import { ODataError } from '../errors/odata-error.js';
import type { ParseLimits } from './filter-ast.js';
import { syntaxError } from './parse-error.js';

export function isWs(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

export abstract class ParserBase {
  pos = 0;
  protected depth = 0;
  private nodes = 0;

  constructor(
    readonly src: string,
    readonly option: string,
    readonly limits: ParseLimits,
  ) {}

  fail(what: string, pos = this.pos): ODataError {
    return syntaxError(this.option, this.src, pos, what);
  }

  /** Counts a node of the tree against limits.maxNodes. */
  protected node<T>(e: T): T {
    if (++this.nodes > this.limits.maxNodes) {
      throw new ODataError('QueryTooComplex', `${this.option} has more than ${this.limits.maxNodes} nodes.`, { target: this.option });
    }
    return e;
  }

  /** One level deeper (a group, a unary operand); the caller decrements depth on the way out. */
  protected enter(): void {
    if (++this.depth > this.limits.maxDepth) {
      throw new ODataError('QueryTooComplex', `${this.option} is nested deeper than ${this.limits.maxDepth} levels.`, { target: this.option });
    }
  }

  skipWs(): number {
    const start = this.pos;
    while (isWs(this.src[this.pos])) this.pos++;
    return this.pos - start;
  }
}
