/** The verifier's own pieces: header names that are Object properties. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootCaller } from '../iam/principal.js';
import { AwsError } from './errors.js';
import { SigV4Verifier } from './sigv4.js';

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
