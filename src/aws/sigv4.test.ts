/** The verifier's own pieces: SigningKey's HMAC-SHA256 against node:crypto's createHmac; header names that are Object properties. */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { rootCaller } from '../iam/principal.js';
import { AwsError } from './errors.js';
import { SigningKey, SigV4Verifier } from './sigv4.js';

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

test('a signed header named like an Object property (__proto__, constructor) is a wrong signature, not a crash', async () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  const verifier = new SigV4Verifier({ credentials: { lookup: async () => ({ secretAccessKey: 'secret', caller: rootCaller('111122223333') }) }, now: () => now });
  for (const name of ['__proto__', 'constructor', 'tostring']) {
    for (const headers of [{}, Object.create(null) as Record<string, string>]) {
      Object.assign(headers, {
        host: '127.0.0.1',
        'x-amz-date': '20261130T120000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261130/us-east-1/ecs/aws4_request, SignedHeaders=${name};host;x-amz-date, Signature=${'0'.repeat(64)}`,
      });
      await assert.rejects(verifier.verify({ method: 'POST', path: '/', query: {}, headers, body: Buffer.from('{}') }, 'ecs'), (e) => e instanceof AwsError && e.code === 'InvalidSignatureException');
    }
  }
});
