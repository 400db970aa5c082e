import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBatch, MAX_BATCH_BYTES, TOO_NEW_MS, TOO_OLD_MS } from './put-rules.js';

const now = 1_800_000_000_000;
const ev = (timestamp: number, message = 'x') => ({ timestamp, message });

describe('PutLogEvents batch rules', () => {
  it('accepts an ordered batch whole', () => {
    assert.deepEqual(checkBatch([ev(now - 2), ev(now - 1), ev(now - 1)], now, null), { ok: true, accepted: { from: 0, to: 3 }, rejected: undefined });
  });

  it('refuses an unordered batch, one over 1 MB and one spanning more than 24 hours', () => {
    assert.match((checkBatch([ev(now), ev(now - 1)], now, null) as { message: string }).message, /chronological order/);
    const big = 'x'.repeat(100_000);
    assert.match((checkBatch(Array.from({ length: 11 }, () => ev(now, big)), now, null) as { message: string }).message, new RegExp(`exceeds limit of ${MAX_BATCH_BYTES}`));
    assert.match((checkBatch([ev(now - 25 * 3_600_000), ev(now)], now, null) as { message: string }).message, /24 hours/);
  });

  it('counts 26 bytes of overhead per event', () => {
    const n = 1000;
    const size = Math.floor(MAX_BATCH_BYTES / n) - 26;
    assert.equal(checkBatch(Array.from({ length: n }, () => ev(now, 'y'.repeat(size))), now, null).ok, true);
    assert.equal(checkBatch(Array.from({ length: n }, () => ev(now, 'y'.repeat(size + 1))), now, null).ok, false);
  });

  it('leaves out too old, expired and too new events and says which', () => {
    const old = [ev(now - TOO_OLD_MS - 10), ev(now - TOO_OLD_MS + 10)];
    assert.deepEqual(checkBatch(old, now, null), { ok: true, accepted: { from: 1, to: 2 }, rejected: { tooOldLogEventEndIndex: 0 } });
    const recent = [ev(now - 86_400_000 - 5), ev(now - 86_400_000 + 5), ev(now - 10)];
    assert.deepEqual(checkBatch(recent, now, 1), { ok: true, accepted: { from: 1, to: 3 }, rejected: { expiredLogEventEndIndex: 0 } });
    const future = [ev(now), ev(now + TOO_NEW_MS + 1), ev(now + TOO_NEW_MS + 2)];
    assert.deepEqual(checkBatch(future, now, null), { ok: true, accepted: { from: 0, to: 1 }, rejected: { tooNewLogEventStartIndex: 1 } });
  });
});
