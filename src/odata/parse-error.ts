/**
 * Helpers for syntax errors that carry the position in the option's text, so that a client sees where
 * its URL went wrong ("at position 12").
 */
import { ODataError } from '../errors/odata-error.js';

export function syntaxError(option: string, text: string, pos: number, what: string): ODataError {
  const near = text.slice(pos, pos + 20);
  return new ODataError('SyntaxError', `Syntax error in ${option} at position ${pos}: ${what}${near ? ` near "${near}"` : ''}.`, { target: option });
}
