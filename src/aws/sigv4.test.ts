/** SigningKey's HMAC-SHA256 (two one-shot hashes) against node:crypto's createHmac, on random keys and messages. */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { SigningKey } from './sigv4.js';

test('SigningKey.hmac is HMAC-SHA256 for any key and message, also after a message outgrows its buffer', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.array(fc.string({ unit: 'grapheme', maxLength: 700 }), { minLength: 1, maxLength: 4 }), (key, messages) => {
      const signingKey = new SigningKey(key);
      // The same key object in turn: a long message must not leave anything behind for the next.
      for (const message of messages) assert.equal(signingKey.hmac(message).toString('hex'), createHmac('sha256', key).update(message).digest('hex'));
    }),
    { numRuns: 300 },
  );
});
