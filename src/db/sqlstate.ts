/**
 * Turns PostgreSQL errors into ODataErrors: a refusal caused by the client's data becomes a 4xx naming
 * the constraint and column (never the SQL), a timeout a 504, an exhausted pool a 503. Anything else is
 * left as it is, so that the HTTP edge masks it as a 500 and logs it.
 */
import { ODataError } from '../errors/odata-error.js';

interface PgErrorLike {
  code?: string;
  constraint?: string;
  column?: string;
  table?: string;
  detail?: string;
  message?: string;
}

function isPgError(e: unknown): e is PgErrorLike & Error {
  return e instanceof Error && typeof (e as PgErrorLike).code === 'string' && /^[0-9A-Z]{5}$/.test((e as PgErrorLike).code!);
}

/** Column names mentioned in a pg error detail such as "Key (sfid)=(x) already exists." */
function keyColumns(detail: string | undefined): string | undefined {
  const m = detail ? /^Key \(([^)]*)\)/.exec(detail) : null;
  return m ? m[1] : undefined;
}

export function toODataError(e: unknown): unknown {
  if (e instanceof ODataError) return e;
  if (e instanceof Error && /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(e.message)) {
    return new ODataError('ServiceUnavailable', 'The service is busy; no database connection became free in time. Retry later.', {
      headers: { 'Retry-After': '1' },
    });
  }
  if (!isPgError(e)) return e;
  const code = e.code!;
  const cols = keyColumns(e.detail);
  switch (code) {
    case '23505':
      return new ODataError('Conflict', `The value of ${cols ?? 'a unique column'} is already used (unique constraint "${e.constraint ?? ''}").`, {
        ...(cols ? { target: cols } : {}),
      });
    case '23503':
      return new ODataError('Conflict', `The value of ${cols ?? 'a reference column'} does not match an existing row, or the row is still referenced (foreign key constraint "${e.constraint ?? ''}").`, {
        ...(cols ? { target: cols } : {}),
      });
    case '23502':
      return new ODataError('ConstraintViolation', `Property ${e.column ?? ''} may not be null (not-null constraint).`, {
        ...(e.column ? { target: e.column } : {}),
      });
    case '23514':
      return new ODataError('ConstraintViolation', `The values violate check constraint "${e.constraint ?? ''}".`);
    case '23P01':
      return new ODataError('Conflict', `The values violate exclusion constraint "${e.constraint ?? ''}".`);
    case '57014':
      return new ODataError('Timeout', 'The query took longer than the statement timeout and was cancelled.');
    case '53300':
    case '57P03':
      return new ODataError('ServiceUnavailable', 'The database is not accepting connections right now. Retry later.', {
        headers: { 'Retry-After': '5' },
      });
    case '40001':
    case '40P01':
      return new ODataError('Conflict', 'The request conflicted with a concurrent change; retry it.');
    case '25006':
      return new ODataError('MethodNotAllowed', 'This entity set is read-only.');
    case 'P0001':
      // RAISE EXCEPTION in a trigger or rule: the database's own business rule refused the request. Its
      // message is the admin's text, written for the people who hit the rule.
      return new ODataError('ConstraintViolation', `The database refused the change: ${(e.message ?? '').slice(0, 500)}`);
    default:
      break;
  }
  // Class 22 (data exception): a value the client sent cannot be used (overflow, division by zero,
  // out-of-range date, bad regular expression...). The pg message names the problem, not the SQL.
  if (code.startsWith('22') || code === '2201B') {
    return new ODataError('BadRequest', `The database refused a value: ${e.message}.`);
  }
  return e;
}
