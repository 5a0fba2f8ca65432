/** releaseStartupMemory: the new space that start-up grew is handed back (and the session is closed: this file would not end otherwise). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { releaseStartupMemory } from './memory.js';

const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size;

describe('releaseStartupMemory', () => {
  it('shrinks the new space that a burst of short-lived allocations grew', async () => {
    const keep: object[] = [];
    for (let i = 0; i < 400_000; i++) {
      const o = { i, s: `row ${i}`, a: [i, i + 1] };
      if (i % 8 === 0) keep.push(o);
      if (keep.length > 20_000) keep.length = 0;
    }
    const before = newSpace();
    await releaseStartupMemory();
    const after = newSpace();
    assert.ok(after < before, `new space ${before} -> ${after} bytes`);
    await releaseStartupMemory(); // a second call is harmless
  });
});
