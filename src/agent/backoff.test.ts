/** Reconnection backoff: doubling up to its cap, with jitter so that agents cut off together do not return together. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './agent.js';

describe('backoffMs', () => {
  it('waits between half and all of base·2^attempt, capped', () => {
    for (const [attempt, ceiling] of [[0, 100], [1, 200], [3, 800], [6, 5000], [40, 5000]] as const) {
      for (let i = 0; i < 200; i++) {
        const ms = backoffMs(attempt, 100);
        assert.ok(ms >= ceiling / 2 && ms <= ceiling, `attempt ${attempt}: ${ms} not in [${ceiling / 2}, ${ceiling}]`);
      }
    }
  });

  it('spreads a thousand agents over the window instead of one instant', () => {
    const waits = Array.from({ length: 1000 }, () => backoffMs(6, 100));
    const buckets = new Set(waits.map((ms) => Math.floor((ms - 2500) / 250)));
    assert.equal(buckets.size, 10, 'every tenth of the 2.5–5 s window is used');
    assert.ok(Math.max(...waits) - Math.min(...waits) > 2000);
  });
});
