/**
 * The verifier against the AWS SDK's signer (@smithy/signature-v4 with @aws-crypto/sha256-js),
 * on random requests: whatever SignatureV4 signs (header or presigned form, paths with odd
 * characters and dot-segments, repeated query keys, session tokens), SigV4Verifier accepts;
 * the same request with one thing changed is refused. No server: the verifier alone.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsError } from '../src/aws/errors.js';
import { SigV4Verifier, type IncomingRequest } from '../src/aws/sigv4.js';
import { rootCaller, type SigningCredential } from '../src/iam/principal.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const keys: Record<string, SigningCredential> = {
  AKIAEXAMPLEROOT00000: { secretAccessKey: 'root/secret+key', caller: rootCaller('111122223333', 'AKIAEXAMPLEROOT00000') },
  ASIAEXAMPLESESSION00: { secretAccessKey: 'session-secret', sessionToken: 'FwoGZXIvYXdzE//token==', expiresAt: NOW + 3600_000, caller: rootCaller('111122223333') },
};
const verifier = new SigV4Verifier({ credentials: { lookup: async (id) => keys[id] }, now: () => NOW });

const segment = fc.stringMatching(/^[A-Za-z0-9._~ %:@!$&'()*+,;=-]{0,8}$/).map((s) => encodeURIComponent(s));
const path = fc.array(fc.oneof({ weight: 6, arbitrary: segment }, fc.constantFrom('.', '..', '')), { maxLength: 5 }).map((segs) => `/${segs.join('/')}`);
const queryValue = fc.string({ maxLength: 8 });
const query = fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,6}$/), fc.oneof(queryValue, fc.array(queryValue, { minLength: 2, maxLength: 3 })), { maxKeys: 3 });
const headerValue = fc.stringMatching(/^[ -~]{0,12}$/);
const extraHeaders = fc.dictionary(fc.stringMatching(/^x-custom-[a-z]{1,5}$/), headerValue, { maxKeys: 3 });

const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
  path,
  query,
  headers: extraHeaders,
  body: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
  keyId: fc.constantFrom(...Object.keys(keys)),
  presign: fc.boolean(),
  signedAt: fc.integer({ min: NOW - 14 * 60_000, max: NOW + 14 * 60_000 }),
  region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
});

type Case = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

/** Signs `c` as the SDK would, and turns the result into what the server receives. */
async function signed(c: Case): Promise<IncomingRequest> {
  const credential = keys[c.keyId]!;
  const signer = new SignatureV4({
    credentials: { accessKeyId: c.keyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken },
    region: c.region,
    service: 'ecs',
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: c.method,
    hostname: '127.0.0.1',
    port: 4600,
    path: c.path,
    query: { ...c.query },
    headers: { host: '127.0.0.1:4600', ...c.headers },
    body: c.body,
  });
  const signingDate = new Date(c.signedAt);
  const out = c.presign ? await signer.presign(request, { signingDate, expiresIn: 900 }) : await signer.sign(request, { signingDate });
  const received: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(out.query ?? {})) if (v != null) received[k] = Array.isArray(v) ? v.map(String) : String(v);
  return {
    method: out.method,
    path: out.path,
    query: received,
    headers: Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: c.body === undefined ? undefined : Buffer.from(c.body),
  };
}

test('whatever the SDK signer signs, the verifier accepts (as the right principal and scope)', async () => {
  await fc.assert(
    fc.asyncProperty(requestArb, async (c) => {
      const verified = await verifier.verify(await signed(c), 'ecs');
      assert.equal(verified.scope.region, c.region);
      assert.equal(verified.caller, keys[c.keyId]!.caller);
      assert.equal(verified.presigned, c.presign);
    }),
    { numRuns: 300 },
  );
});

test('the same request with one thing changed is refused with an AWS error', async () => {
  const mutations: [string, (r: IncomingRequest) => IncomingRequest][] = [
    ['body', (r) => ({ ...r, body: Buffer.concat([r.body ?? Buffer.alloc(0), Buffer.from('x')]) })],
    ['method', (r) => ({ ...r, method: r.method === 'GET' ? 'POST' : 'GET' })],
    ['path', (r) => ({ ...r, path: `${r.path.replace(/\/$/, '')}/extra` })],
    ['query', (r) => ({ ...r, query: { ...r.query, added: '1' } })],
    ['host', (r) => ({ ...r, headers: { ...r.headers, host: 'evil.example:4600' } })],
  ];
  await fc.assert(
    fc.asyncProperty(requestArb, fc.constantFrom(...mutations), async (c, [, mutate]) => {
      const tampered = mutate(await signed(c));
      await assert.rejects(verifier.verify(tampered, 'ecs'), (e: unknown) => e instanceof AwsError && e.code === 'InvalidSignatureException');
    }),
    { numRuns: 200 },
  );
});
