/**
 * The textual forms of OData primitive values accepted in write bodies, and the digit counting of
 * decimals on their raw text (exponents included).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decimalDigits, durationToInterval, fitsDecimal, fitsInt64, isEdmBinary, isEdmDate, isEdmDateTimeOffset, isEdmDuration, isEdmGuid, isEdmTimeOfDay,
} from './edm-formats.js';

describe('edm formats', () => {
  it('Edm.Date: YYYY-MM-DD with real days (leap years)', () => {
    for (const ok of ['2024-02-29', '2000-02-29', '0001-01-01', '9999-12-31']) assert.ok(isEdmDate(ok), ok);
    for (const bad of ['2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '2024-1-01', '0000-01-01', '2024-01-01T00:00:00Z', '']) assert.ok(!isEdmDate(bad), bad);
  });
  it('Edm.DateTimeOffset: Z or an offset is required, seconds optional', () => {
    for (const ok of ['2024-01-01T10:00:00Z', '2024-01-01T10:00Z', '2024-01-01T10:00:00.123456789+05:30', '2024-02-29T23:59:59-12:00']) assert.ok(isEdmDateTimeOffset(ok), ok);
    for (const bad of ['2024-01-01T10:00:00', '2024-01-01 10:00:00Z', '2024-02-30T10:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T10:00:00+0530']) assert.ok(!isEdmDateTimeOffset(bad), bad);
  });
  it('Edm.TimeOfDay', () => {
    for (const ok of ['00:00', '23:59:59', '12:30:15.123456']) assert.ok(isEdmTimeOfDay(ok), ok);
    for (const bad of ['24:00', '12:60', '1:00', '12:00:00Z']) assert.ok(!isEdmTimeOfDay(bad), bad);
  });
  it('Edm.Guid', () => {
    assert.ok(isEdmGuid('0123abcd-4567-89AB-cdef-0123456789ab'));
    for (const bad of ['0123abcd456789abcdef0123456789ab', '{0123abcd-4567-89ab-cdef-0123456789ab}', 'g123abcd-4567-89ab-cdef-0123456789ab']) assert.ok(!isEdmGuid(bad), bad);
  });
  it('Edm.Binary: base64 and base64url, padded or not', () => {
    for (const ok of ['', 'AA==', 'AAA=', 'AAAA', 'AA', 'AP_-', 'AP/+']) assert.ok(isEdmBinary(ok), ok);
    for (const bad of ['A', 'AAAAA', 'A===', 'AA=', '@@@@', 'AA==AA']) assert.ok(!isEdmBinary(bad), bad);
  });
  it('Edm.Duration: days and time only, at least one component', () => {
    for (const ok of ['P1D', 'PT1H', 'PT0.5S', '-P1DT2H30M5.25S', 'P0D']) assert.ok(isEdmDuration(ok), ok);
    for (const bad of ['P', 'PT', 'P1Y', 'P1M', '1 day', 'P1DT', 'PT1.S']) assert.ok(!isEdmDuration(bad), bad);
    assert.equal(durationToInterval('-P1DT2H0.5S'), 'P-1DT-2H-0.5S');
    assert.equal(durationToInterval('PT3M'), 'PT3M');
  });
});

describe('decimal digits on the raw text', () => {
  it('counts integer and fraction digits, ignoring leading and trailing zeros, applying exponents', () => {
    assert.deepEqual(decimalDigits('12345678901234567.89'), { int: 17, frac: 2 });
    assert.deepEqual(decimalDigits('-0.50'), { int: 0, frac: 1 });
    assert.deepEqual(decimalDigits('1.5e3'), { int: 4, frac: 0 });
    assert.deepEqual(decimalDigits('123e-5'), { int: 0, frac: 5 });
    assert.deepEqual(decimalDigits('.5'), { int: 0, frac: 1 });
    assert.equal(decimalDigits('abc'), undefined);
    assert.equal(decimalDigits('.'), undefined);
    assert.equal(decimalDigits('1e99999'), undefined);
  });
  it('numeric(18,2): at most 16 integer digits and 2 decimals', () => {
    const f = { precision: 18, scale: 2 };
    assert.ok(fitsDecimal('9999999999999999.99', f));
    assert.ok(fitsDecimal('1.10', f));
    assert.ok(!fitsDecimal('12345678901234567.89', f));
    assert.ok(!fitsDecimal('1.001', f));
    assert.ok(fitsDecimal('1e15', f));
    assert.ok(!fitsDecimal('1e16', f));
    assert.ok(fitsDecimal('123456789012345678901234567890.123456789', { scale: 'variable' }));
    assert.ok(!fitsDecimal('1.5', { precision: 5, scale: 0 }));
  });
  it('Int64 range', () => {
    assert.ok(fitsInt64('9223372036854775807'));
    assert.ok(fitsInt64('-9223372036854775808'));
    assert.ok(!fitsInt64('9223372036854775808'));
    assert.ok(!fitsInt64('1.0'));
    assert.ok(!fitsInt64('1e3'));
  });
});
