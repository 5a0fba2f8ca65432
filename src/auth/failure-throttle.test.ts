import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureThrottle } from './failure-throttle.js';

const T0 = new Date('2025-06-01T12:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

test('the first 5 failures are free, then delays grow 250, 500, 1000, 2000 ms and stay capped', () => {
  const t = new FailureThrottle();
  const delays = Array.from({ length: 10 }, () => t.recordFailure('1.2.3.4', T0));
  assert.deepEqual(delays, [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 2000]);
  assert.equal(t.recordFailure('5.6.7.8', T0), 0, 'per address');
});

test('the window ends 15 minutes after the first failure', () => {
  const t = new FailureThrottle();
  for (let i = 0; i < 7; i++) t.recordFailure('a', T0);
  assert.equal(t.failures('a', at(15 * 60_000 - 1)), 7);
  assert.equal(t.failures('a', at(15 * 60_000)), 0);
  assert.equal(t.recordFailure('a', at(15 * 60_000)), 0);
});

test('lockout: refused with a Retry-After up to the end of the window', () => {
  const t = new FailureThrottle({ lockoutFailures: 10 });
  for (let i = 0; i < 9; i++) t.recordFailure('a', T0);
  assert.deepEqual(t.check('a', T0), { kind: 'allow' });
  t.recordFailure('a', T0);
  assert.deepEqual(t.check('a', at(60_000)), { kind: 'refuse', retryAfterSeconds: 14 * 60, failures: 10 });
  assert.deepEqual(t.check('b', T0), { kind: 'allow' });
  assert.deepEqual(t.check('a', at(15 * 60_000)), { kind: 'allow' });
});

test('the map is bounded: expired entries go first, then the oldest', () => {
  const t = new FailureThrottle({ maxEntries: 3, windowMs: 1000 });
  t.recordFailure('old', T0);
  t.recordFailure('x', at(500));
  t.recordFailure('y', at(600));
  t.recordFailure('z', at(1000)); // 'old' has expired and makes room
  assert.equal(t.size, 3);
  assert.equal(t.failures('old', at(1000)), 0);
  t.recordFailure('w', at(1001)); // nothing expired: the oldest ('x') goes
  assert.equal(t.size, 3);
  assert.equal(t.failures('x', at(1001)), 0);
  assert.equal(t.failures('w', at(1001)), 1);
});
