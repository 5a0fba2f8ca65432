/**
 * Pure: the `if` member of a JSON batch request (JSON Format 19.1), an alternative condition for running a
 * request that depends on others. This service evaluates the part of that URL-expression language that
 * speaks about the outcome of earlier requests: `$<id>/$succeeded`, `true`, `false`, `not`, `and`, `or`
 * and parentheses. Conditions on values of earlier response bodies (`$1/Building eq 'x'`) are outside it:
 * parseBatchCondition answers undefined, and the request is not run (424, as the specification asks of a
 * service that does not support a condition).
 */
import { assertNever } from '../errors/odata-error.js';

export type BatchCondition =
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'succeeded'; readonly id: string }
  | { readonly kind: 'not'; readonly arg: BatchCondition }
  | { readonly kind: 'and' | 'or'; readonly left: BatchCondition; readonly right: BatchCondition };

type Token = { readonly t: '(' | ')' } | { readonly t: 'word'; readonly w: string } | { readonly t: 'ref'; readonly id: string };

/** `$<request-id>/$succeeded`; a request id is 1*unreserved (ABNF `request-id`). */
const REF = /^\$([A-Za-z0-9._~-]+)\/\$succeeded(?![A-Za-z0-9._~$/-])/;
const WORD = /^[A-Za-z]+(?![A-Za-z0-9._~$/-])/;

function tokenize(text: string): Token[] | undefined {
  const out: Token[] = [];
  let s = text;
  while (s.length > 0) {
    const ws = /^[ \t]+/.exec(s);
    if (ws) {
      s = s.slice(ws[0].length);
      continue;
    }
    if (s[0] === '(' || s[0] === ')') {
      out.push({ t: s[0] });
      s = s.slice(1);
      continue;
    }
    const ref = REF.exec(s);
    if (ref) {
      out.push({ t: 'ref', id: ref[1]! });
      s = s.slice(ref[0].length);
      continue;
    }
    const word = WORD.exec(s);
    if (!word) return undefined;
    out.push({ t: 'word', w: word[0].toLowerCase() });
    s = s.slice(word[0].length);
  }
  return out;
}

const MAX_LENGTH = 2000;

/** The condition, or undefined when the text is outside the subset evaluated here (or over 2,000 characters). */
export function parseBatchCondition(text: string): BatchCondition | undefined {
  // The length bounds the parser's recursion (one level per parenthesis or `not`) far below the stack's.
  if (text.length > MAX_LENGTH) return undefined;
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return undefined;
  }
  const tokens = tokenize(decoded);
  if (!tokens || tokens.length === 0) return undefined;
  let i = 0;
  const isWord = (w: string): boolean => {
    const tok = tokens[i];
    return tok !== undefined && tok.t === 'word' && tok.w === w;
  };
  // or > and > not, as in OData's operator precedence.
  const binary = (op: 'and' | 'or', operand: () => BatchCondition | undefined) => (): BatchCondition | undefined => {
    let left = operand();
    while (left && isWord(op)) {
      i++;
      const right = operand();
      left = right && { kind: op, left, right };
    }
    return left;
  };
  const parseAnd = binary('and', () => parseUnary());
  const parseOr = binary('or', parseAnd);
  const parseUnary = (): BatchCondition | undefined => {
    const tok = tokens[i++];
    if (tok === undefined) return undefined;
    if (tok.t === 'ref') return { kind: 'succeeded', id: tok.id };
    if (tok.t === '(') {
      const inner = parseOr();
      return inner && tokens[i++]?.t === ')' ? inner : undefined;
    }
    if (tok.t !== 'word') return undefined;
    if (tok.w === 'true' || tok.w === 'false') return { kind: 'const', value: tok.w === 'true' };
    if (tok.w !== 'not') return undefined;
    const arg = parseUnary();
    return arg && { kind: 'not', arg };
  };
  const c = parseOr();
  return c && i === tokens.length ? c : undefined;
}

/** The request ids (or atomicity groups) a condition refers to. */
export function conditionRefs(c: BatchCondition): string[] {
  switch (c.kind) {
    case 'const':
      return [];
    case 'succeeded':
      return [c.id];
    case 'not':
      return conditionRefs(c.arg);
    case 'and':
    case 'or':
      return [...conditionRefs(c.left), ...conditionRefs(c.right)];
    default:
      return assertNever(c, 'batch condition');
  }
}

export function evaluateCondition(c: BatchCondition, succeeded: (id: string) => boolean): boolean {
  switch (c.kind) {
    case 'const':
      return c.value;
    case 'succeeded':
      return succeeded(c.id);
    case 'not':
      return !evaluateCondition(c.arg, succeeded);
    case 'and':
      return evaluateCondition(c.left, succeeded) && evaluateCondition(c.right, succeeded);
    case 'or':
      return evaluateCondition(c.left, succeeded) || evaluateCondition(c.right, succeeded);
    default:
      return assertNever(c, 'batch condition');
  }
}
