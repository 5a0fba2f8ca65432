/**
 * Parser for $select: a comma-separated list of `*` and property names (paths are kept for the planner
 * to reject). Qualified names, `Namespace.*`, annotations and nested options are well-formed OData that
 * this flat model does not serve: 501.
 */
import { ODataError } from '../errors/odata-error.js';
import type { SelectItem } from './filter-ast.js';
import { syntaxError } from './parse-error.js';

const OPTION = '$select';
const IDENT = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}/u;

function notImplemented(what: string): ODataError {
  return new ODataError('NotImplemented', `${what} is not supported in $select.`, { target: OPTION });
}

/** Parses a $select value (percent-decoded). */
export function parseSelect(text: string, maxItems = 1000): SelectItem[] {
  if (text.length === 0) throw syntaxError(OPTION, text, 0, 'the $select value is empty');
  const items: SelectItem[] = [];
  let pos = 0;
  for (;;) {
    if (items.length >= maxItems) throw new ODataError('QueryTooComplex', `$select has more than ${maxItems} items.`, { target: OPTION });
    const ch = text[pos];
    if (ch === '*') {
      items.push({ kind: 'star' });
      pos++;
    } else if (ch === '@') {
      throw notImplemented('Selecting annotations');
    } else {
      const path: string[] = [];
      for (;;) {
        const id = IDENT.exec(text.slice(pos));
        if (!id) {
          if (text[pos] === '@' || text[pos] === '$') throw notImplemented('Annotations and system segments');
          throw syntaxError(OPTION, text, pos, 'expected a property name or "*"');
        }
        pos += id[0].length;
        const next = text[pos];
        if (next === '.') throw notImplemented('Qualified names (type casts, actions, functions)');
        if (next === '(') throw notImplemented('Nested query options and function parameters');
        path.push(id[0]);
        if (next !== '/') break;
        pos++;
        if (text[pos] === '*') throw notImplemented('Selecting "*" below a path');
      }
      items.push({ kind: 'property', path });
    }
    if (pos === text.length) return items;
    if (text[pos] !== ',') throw syntaxError(OPTION, text, pos, 'expected "," or the end of $select');
    pos++;
  }
}
