/**
 * The one error family of the server. Every stage throws ODataError with an HTTP status, a stable code
 * from the table below, a message for humans and, where it helps, the target (the property, option or
 * segment at fault) and details (one entry per offending item). The HTTP edge renders it as OData's
 * `{"error":{...}}`; anything that is not an ODataError is a bug and becomes a masked 500.
 */

/** Stable error codes, grouped by stage. Never reuse or rename a code: clients may match on it. */
export const ErrorCodes = {
  // request / routing
  NotFound: 404,
  EntitySetNotFound: 404,
  EntityNotFound: 404,
  PropertyNotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  PreconditionFailed: 412,
  PreconditionRequired: 428,
  UnsupportedMediaType: 415,
  PayloadTooLarge: 413,
  UriTooLong: 414,
  HeadersTooLarge: 431,
  NotImplemented: 501,
  BadRequest: 400,
  UnsupportedVersion: 400,
  // parse
  SyntaxError: 400,
  InvalidKey: 400,
  InvalidLiteral: 400,
  InvalidQueryOption: 400,
  DuplicateQueryOption: 400,
  // plan
  TypeMismatch: 400,
  UnknownProperty: 400,
  UnknownFunction: 400,
  QueryTooComplex: 400,
  InvalidSkipToken: 400,
  // write
  InvalidBody: 400,
  ReadOnlyProperty: 400,
  Conflict: 409,
  ConstraintViolation: 400,
  // auth and limits
  Unauthorized: 401,
  Forbidden: 403,
  TooManyRequests: 429,
  RequestTimeout: 408,
  // runtime
  ServiceUnavailable: 503,
  Timeout: 504,
  Internal: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorDetail {
  readonly code: ErrorCode;
  readonly message: string;
  readonly target?: string;
}

export class ODataError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly target?: string;
  readonly details?: readonly ErrorDetail[];
  /** Extra response headers the error implies (Allow, Retry-After, WWW-Authenticate). */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { target?: string; details?: readonly ErrorDetail[]; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ODataError';
    this.code = code;
    this.status = opts.status ?? ErrorCodes[code];
    if (opts.target !== undefined) this.target = opts.target;
    if (opts.details !== undefined) this.details = opts.details;
    if (opts.headers !== undefined) this.headers = opts.headers;
  }

  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.target !== undefined) error['target'] = this.target;
    if (this.details !== undefined && this.details.length > 0) {
      error['details'] = this.details.map((d) => ({ code: d.code, message: d.message, ...(d.target ? { target: d.target } : {}) }));
    }
    return { error };
  }
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
