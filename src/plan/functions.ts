/**
 * Signatures of the built-in OData functions (URL Conventions 5.1.1.5-5.1.1.11): which Edm types each
 * argument accepts and the result type. A closed table: every FunctionName has exactly one entry.
 */
import type { EdmType } from '../catalog/types.js';
import type { FunctionName } from '../odata/filter-parser.js';

export type ArgClass = 'string' | 'integer' | 'numeric' | 'dateOrDto' | 'dtoOrTime' | 'dto';
/** 'same' means the result has the type of the first argument. */
export interface Signature {
  readonly args: readonly ArgClass[];
  readonly result: EdmType | 'same';
}

export const SIGNATURES = {
  contains: { args: ['string', 'string'], result: 'Edm.Boolean' },
  startswith: { args: ['string', 'string'], result: 'Edm.Boolean' },
  endswith: { args: ['string', 'string'], result: 'Edm.Boolean' },
  length: { args: ['string'], result: 'Edm.Int32' },
  indexof: { args: ['string', 'string'], result: 'Edm.Int32' },
  substring: { args: ['string', 'integer', 'integer'], result: 'Edm.String' },
  tolower: { args: ['string'], result: 'Edm.String' },
  toupper: { args: ['string'], result: 'Edm.String' },
  trim: { args: ['string'], result: 'Edm.String' },
  concat: { args: ['string', 'string'], result: 'Edm.String' },
  matchesPattern: { args: ['string', 'string'], result: 'Edm.Boolean' },
  year: { args: ['dateOrDto'], result: 'Edm.Int32' },
  month: { args: ['dateOrDto'], result: 'Edm.Int32' },
  day: { args: ['dateOrDto'], result: 'Edm.Int32' },
  hour: { args: ['dtoOrTime'], result: 'Edm.Int32' },
  minute: { args: ['dtoOrTime'], result: 'Edm.Int32' },
  second: { args: ['dtoOrTime'], result: 'Edm.Int32' },
  fractionalseconds: { args: ['dtoOrTime'], result: 'Edm.Decimal' },
  date: { args: ['dto'], result: 'Edm.Date' },
  time: { args: ['dto'], result: 'Edm.TimeOfDay' },
  totaloffsetminutes: { args: ['dto'], result: 'Edm.Int32' },
  now: { args: [], result: 'Edm.DateTimeOffset' },
  mindatetime: { args: [], result: 'Edm.DateTimeOffset' },
  maxdatetime: { args: [], result: 'Edm.DateTimeOffset' },
  round: { args: ['numeric'], result: 'same' },
  floor: { args: ['numeric'], result: 'same' },
  ceiling: { args: ['numeric'], result: 'same' },
} as const satisfies Record<FunctionName, Signature>;

/** The Edm type a literal argument of this class is coerced to, and the types the class accepts. */
export const ARG_CLASSES = {
  string: { coerceTo: 'Edm.String', accepts: ['Edm.String'], describe: 'Edm.String' },
  integer: { coerceTo: 'Edm.Int32', accepts: ['Edm.Int16', 'Edm.Int32', 'Edm.Int64'], describe: 'an integer type' },
  numeric: {
    coerceTo: undefined,
    accepts: ['Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Single', 'Edm.Double'],
    describe: 'a numeric type',
  },
  dateOrDto: { coerceTo: undefined, accepts: ['Edm.Date', 'Edm.DateTimeOffset'], describe: 'Edm.Date or Edm.DateTimeOffset' },
  dtoOrTime: { coerceTo: undefined, accepts: ['Edm.DateTimeOffset', 'Edm.TimeOfDay'], describe: 'Edm.DateTimeOffset or Edm.TimeOfDay' },
  dto: { coerceTo: undefined, accepts: ['Edm.DateTimeOffset'], describe: 'Edm.DateTimeOffset' },
} as const satisfies Record<ArgClass, { coerceTo: EdmType | undefined; accepts: readonly EdmType[]; describe: string }>;
