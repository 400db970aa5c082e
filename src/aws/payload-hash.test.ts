import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { PAYLOAD_HASH_SLICE_BYTES, payloadSha256 } from './sigv4.js';

const reference = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('payloadSha256 equals SHA-256 below and above the slice size, and over a view into a larger buffer', async () => {
  for (const size of [0, 1, PAYLOAD_HASH_SLICE_BYTES - 1, PAYLOAD_HASH_SLICE_BYTES, 3 * PAYLOAD_HASH_SLICE_BYTES + 17]) {
    const body = randomBytes(size);
    assert.equal(await payloadSha256(body), reference(body), `size ${size}`);
  }
  const backing = randomBytes(4 * PAYLOAD_HASH_SLICE_BYTES);
  const view = backing.subarray(1000, 1000 + 2 * PAYLOAD_HASH_SLICE_BYTES);
  assert.equal(await payloadSha256(view), reference(view));
});

test('payloadSha256 of a large body returns to the event loop before hashing it', async () => {
  const body = randomBytes(32 * 1024 * 1024);
  let started = performance.now();
  const expected = reference(body);
  const inlineMs = performance.now() - started;
  // Inline, the call would return only after hashing all of it; sliced, after the first slice.
  started = performance.now();
  const hashing = payloadSha256(body);
  const callMs = performance.now() - started;
  assert.equal(await hashing, expected);
  assert.ok(callMs < inlineMs / 4, `the call held the loop ${callMs.toFixed(1)} ms; hashing inline takes ${inlineMs.toFixed(1)} ms`);
});
