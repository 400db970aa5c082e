/**
 * What SigV4 verification costs, in process (no sockets, no load generator): CPU per request of
 * the front door with verification on and with `--accept-any-credentials` (fastify `inject`, the
 * same DescribeTaskDefinition the HTTP benchmark sends, signed once by the SDK's signer and
 * replayed), the verifier alone, and the pieces a verification is made of.
 *
 * Each figure is the median of `--batches` batches of `--iterations` calls, in ns per call
 * (process CPU time, so other work on a shared machine only adds noise, not its own load).
 *
 *   node --import tsx bench/sigv4-cost.ts [--batches 15] [--iterations 5000] [--only parts,verify,inject]
 */
import { escapeUri } from '@smithy/core/protocols';
import { createScope, getCanonicalHeaders, getCanonicalQuery } from '@smithy/signature-v4';
import * as crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SigV4Verifier, type IncomingRequest } from '../src/aws/sigv4.js';
import { CredentialResolverChain } from '../src/iam/credential-chain.js';
import { rootKeyResolver } from '../src/iam/root-key.js';
import { RequestAuthenticator } from '../src/server/auth.js';
import { createApp } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { ECS_TARGET, signedJsonHeaders } from '../test/helpers/sign.js';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '15' },
    iterations: { type: 'string', default: '5000' },
    only: { type: 'string', default: 'parts,verify,inject' },
  },
});
const BATCHES = Number(args.batches);
const ITERATIONS = Number(args.iterations);
const only = new Set(args.only.split(','));

const ACCOUNT = '000000000000';
const rootKey = { accessKeyId: 'AKIABENCHROOT0000000', secretAccessKey: 'bench/secret+key0123456789abcdefghijklmn' };
const body = JSON.stringify({ taskDefinition: 'seed-realistic-0', include: ['TAGS'] });
const origin = 'http://127.0.0.1:4600';

/** CPU ns per call: median over batches (after one warm-up batch). */
async function time(fn: () => unknown, iterations = ITERATIONS): Promise<number> {
  const batch = async () => {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      const r = fn();
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') await r;
    }
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / iterations;
  };
  await batch();
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) samples.push(await batch());
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]!);
}

const results: Record<string, number> = {};
const record = async (name: string, fn: () => unknown, iterations?: number) => {
  results[name] = await time(fn, iterations);
  console.error(`${name.padEnd(60)} ${String(results[name]).padStart(8)} ns`);
};

const headers = Object.fromEntries(Object.entries(await signedJsonHeaders(origin, `${ECS_TARGET}.DescribeTaskDefinition`, body, { credentials: rootKey })).map(([k, v]) => [k.toLowerCase(), v]));
const request: IncomingRequest = { method: 'POST', path: '/', query: {}, headers, body: Buffer.from(body) };
const signedAt = Date.parse(headers['x-amz-date']!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
const credentials = new CredentialResolverChain([rootKeyResolver(rootKey, ACCOUNT)]);

if (only.has('verify')) {
  const verifier = new SigV4Verifier({ credentials, now: () => signedAt });
  const ok = await verifier.verify(request, 'ecs');
  if (ok.caller.kind !== 'root') throw new Error('the bench request does not verify');
  await record('verifier.verify (whole verification)', () => verifier.verify(request, 'ecs'));
  const auth = new RequestAuthenticator({ credentials, accountId: ACCOUNT, defaultRegion: 'us-east-1', isValidRegion: () => true, now: () => signedAt });
  const any = new RequestAuthenticator({ credentials, accountId: ACCOUNT, defaultRegion: 'us-east-1', isValidRegion: () => true, acceptAnyCredentials: true });
  await record('authenticator.authenticate, verifying', () => auth.authenticate(request, 'ecs'));
  await record('authenticator.authenticate, accept-any', () => any.authenticate(request, 'ecs'));
}

if (only.has('parts')) {
  const bodyBytes = Buffer.from(body);
  const secretKey = crypto.createSecretKey(crypto.randomBytes(32));
  const rawKey = crypto.randomBytes(32);
  const stringToSign = `AWS4-HMAC-SHA256\n${headers['x-amz-date']}\n20261130/us-east-1/ecs/aws4_request\n${'0'.repeat(64)}`;
  const signedHeaderNames = headers['authorization']!.match(/SignedHeaders=([^,]+)/)![1]!.split(';');
  const canonicalRequest = `POST\n/\n\n${signedHeaderNames.map((n) => `${n}:${headers[n]}`).join('\n')}\n\n${signedHeaderNames.join(';')}\n${'0'.repeat(64)}`;
  await record('createHash(sha256) body → hex', () => crypto.createHash('sha256').update(bodyBytes).digest('hex'));
  await record('crypto.hash(sha256) body → hex', () => crypto.hash('sha256', bodyBytes, 'hex'));
  await record(`createHash(sha256) canonical request (${canonicalRequest.length} chars) → hex`, () => crypto.createHash('sha256').update(canonicalRequest).digest('hex'));
  await record('crypto.hash(sha256) canonical request → hex', () => crypto.hash('sha256', canonicalRequest, 'hex'));
  await record('createHmac(KeyObject) string to sign → hex', () => crypto.createHmac('sha256', secretKey).update(stringToSign).digest('hex'));
  await record('createHmac(Buffer) string to sign → hex', () => crypto.createHmac('sha256', rawKey).update(stringToSign).digest('hex'));
  await record('regex parse of the Authorization header', () => /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([^,\s]+)$/.exec(headers['authorization']!));
  await record('smithy getCanonicalHeaders', () => getCanonicalHeaders({ headers } as never, undefined, new Set(signedHeaderNames)));
  await record('smithy getCanonicalQuery (empty query)', () => getCanonicalQuery({ query: {} } as never));
  await record('smithy createScope', () => createScope('20261130', 'us-east-1', 'ecs'));
  await record('smithy escapeUri("/")', () => escapeUri('/'));
  await record('credential chain lookup (async)', () => credentials.lookup(rootKey.accessKeyId));
  await record('Buffer.from ×2 + timingSafeEqual (64 hex chars)', () => {
    const a = Buffer.from('a'.repeat(64));
    const b = Buffer.from('a'.repeat(64));
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  });
  await record('canonical request by Array.join', () => ['POST', '/', '', ...signedHeaderNames.map((n) => `${n}:${headers[n]}`), '', signedHeaderNames.join(';'), 'x'].join('\n'));
  await record('new Date(Date.UTC(…)) + 5 getters', () => {
    const d = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
    return d.getUTCMonth() + d.getUTCDate() + d.getUTCHours() + d.getUTCMinutes() + d.getUTCSeconds();
  });
  await record('an awaited resolved promise', async () => {
    await undefined;
  });
}

if (only.has('inject')) {
  // Both front doors at once, measured in alternating batches (so JIT warm-up and drift on a
  // shared machine hit both alike).
  const describe = { method: 'POST' as const, url: '/', payload: body, headers };
  const sides: { name: string; app: Awaited<ReturnType<typeof createApp>>; dir: string; samples: number[] }[] = [];
  try {
    for (const acceptAnyCredentials of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), 'dockyard-sigcost-'));
      const config = { ...defaultConfig({}), host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent' as const, rootKey, acceptAnyCredentials, embeddedAgent: undefined };
      const app = await createApp(config, { logger: false });
      sides.push({ name: `inject DescribeTaskDefinition, ${acceptAnyCredentials ? 'accept-any' : 'verifying'}`, app, dir, samples: [] });
      const registerBody = JSON.stringify({
        family: 'seed-realistic-0',
        containerDefinitions: [
          { name: 'web', image: 'nginx:1.27', memory: 256, portMappings: [{ containerPort: 80 }], environment: [{ name: 'A', value: 'b' }] },
          { name: 'sidecar', image: 'busybox', memory: 64, command: ['sleep', '3600'] },
        ],
      });
      const registerHeaders = await signedJsonHeaders(origin, `${ECS_TARGET}.RegisterTaskDefinition`, registerBody, { credentials: rootKey });
      const reg = await app.http.inject({ method: 'POST', url: '/', payload: registerBody, headers: registerHeaders });
      if (reg.statusCode !== 200) throw new Error(`register: ${reg.statusCode} ${reg.body}`);
    }
    const iterations = Math.ceil(ITERATIONS / 5);
    const batch = async (app: (typeof sides)[number]['app']) => {
      const start = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        const res = await app.http.inject(describe);
        if (res.statusCode !== 200) throw new Error(`describe: ${res.statusCode} ${res.body}`);
      }
      const used = process.cpuUsage(start);
      return ((used.user + used.system) * 1000) / iterations;
    };
    for (let b = -3; b < BATCHES; b++) {
      for (const side of b % 2 === 0 ? sides : [...sides].reverse()) {
        const ns = await batch(side.app);
        if (b >= 0) side.samples.push(ns); // the first batches warm up
      }
    }
    for (const side of sides) {
      side.samples.sort((a, b) => a - b);
      results[side.name] = Math.round(side.samples[Math.floor(side.samples.length / 2)]!);
      console.error(`${side.name.padEnd(60)} ${String(results[side.name]).padStart(8)} ns`);
    }
  } finally {
    for (const side of sides) {
      await side.app.close();
      rmSync(side.dir, { recursive: true, force: true });
    }
  }
}

console.log(JSON.stringify({ node: process.version, batches: BATCHES, iterations: ITERATIONS, nsPerCall: results }, null, 2));
