/**
 * Signature Version 4 verification, independent of any wire protocol: given the request as it
 * arrived (method, path, query, headers, raw body bytes) it checks the Authorization-header
 * form or the presigned query form (X-Amz-Algorithm, -Credential, -Date, -Expires,
 * -SignedHeaders, -Signature, -Security-Token) and answers who signed it, or throws the
 * AwsError AWS answers (each protocol serializes it in its own shape).
 *
 * The signature the client should have sent is computed from the request as received and
 * compared in constant time. The SigV4 pieces come from @smithy/signature-v4 (the AWS SDK's
 * signer): canonical headers and query, URI escaping, the credential scope and the signing-key
 * derivation (HMAC chain); the derived keys are cached per credential, day, region and service,
 * so a verification costs two SHA-256 and one HMAC, natively (node:crypto). Re-signing the whole
 * request through SignatureV4.sign() cost more CPU than the API call it guards (see
 * bench/api.ts --compare-verification); test/sigv4-equivalence.test.ts checks that whatever
 * SignatureV4 signs, this verifies.
 */
import { partition } from '@aws-sdk/core/client';
import { escapeUri } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { createScope, getCanonicalHeaders, getCanonicalQuery, getSigningKey } from '@smithy/signature-v4';
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Caller, CredentialResolver, SigningCredential } from '../iam/principal.js';
import {
  expiredToken,
  incompleteSignature,
  invalidSignature,
  missingAuthenticationToken,
  signatureDoesNotMatch,
  unrecognizedClient,
} from './errors.js';

/** SigV4 credential scope: `<key id>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** A request as it arrived, before anything interpreted its body. */
export interface IncomingRequest {
  method: string;
  /** The path as sent on the wire (still percent-encoded), without the query string. */
  path: string;
  /** Decoded query parameters. */
  query: Readonly<Record<string, string | readonly string[]>>;
  /** Header names in lower case (as Node gives them). */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The exact body bytes (the payload hash is over them). */
  body: Uint8Array | undefined;
}

export interface VerifiedRequest {
  caller: Caller;
  scope: CredentialScope;
  presigned: boolean;
}

export interface SigV4VerifierOptions {
  credentials: CredentialResolver;
  /** Which credential-scope regions are accepted (default: the AWS partitions' region list). */
  isValidRegion?: (region: string) => boolean;
  /** Epoch milliseconds (tests fix it). */
  now?: () => number;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS accepts request timestamps within 15 minutes of its own clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned requests can be valid for at most a week. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600;

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;
const SECURITY_TOKEN_PARAM = 'X-Amz-Security-Token';
const CONTENT_SHA256 = 'x-amz-content-sha256';

/**
 * A region AWS knows, by the partition data the AWS SDK ships (@aws-sdk/core): an exact entry of
 * some partition's region list, not merely a name matching its pattern; the `aws-global`-style
 * pseudo-regions are not regions.
 */
export function isKnownAwsRegion(region: string): boolean {
  if (knownRegions.has(region)) return true;
  const known = !region.endsWith('-global') && 'description' in partition(region);
  if (known) knownRegions.add(region); // a bounded set: only real regions are kept
  return known;
}
const knownRegions = new Set<string>();

const Sha256 = Hash.bind(null, 'sha256');

export class SigV4Verifier {
  private readonly isValidRegion: (region: string) => boolean;
  private readonly now: () => number;
  private readonly signingKeys = new SigningKeyCache();

  constructor(private readonly opts: SigV4VerifierOptions) {
    this.isValidRegion = opts.isValidRegion ?? isKnownAwsRegion;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Verifies the request's signature. `service` is the signing name the request is for (the
   * scope must name it); undefined accepts the scope's service as signed.
   */
  async verify(req: IncomingRequest, service?: string): Promise<VerifiedRequest> {
    const authorization = header(req.headers, 'authorization');
    const presigned = query1(req.query, 'X-Amz-Algorithm') !== undefined;
    if (authorization !== undefined && presigned) {
      throw incompleteSignature('Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
    }
    if (authorization === undefined && !presigned) throw missingAuthenticationToken();
    const auth = presigned ? parsePresigned(req.query) : parseAuthorizationHeader(authorization!, header(req.headers, 'x-amz-date'));
    // The endpoint is part of what is signed: a signature for another host does not travel here.
    if (!auth.signedHeaders.some((h) => h.toLowerCase() === 'host')) throw incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    const scope = parseCredential(auth.credential);
    const signedAt = parseAmzDate(auth.amzDate);
    this.checkTime(signedAt, auth);
    this.checkScope(scope, auth.amzDate, service);

    const credential = await this.opts.credentials.lookup(scope.accessKeyId);
    if (!credential) throw unrecognizedClient();
    const requestToken = presigned ? query1(req.query, SECURITY_TOKEN_PARAM) : header(req.headers, 'x-amz-security-token');
    // Temporary credentials come with their session token; long-term keys come without one.
    if ((credential.sessionToken !== undefined || requestToken !== undefined) && !sameText(credential.sessionToken ?? '', requestToken ?? '')) throw unrecognizedClient();
    if (credential.expiresAt !== undefined && credential.expiresAt <= this.now()) throw expiredToken();

    const expected = await computeSignature(req, auth, scope, credential, this.signingKeys);
    if (!sameText(expected, auth.signature.toLowerCase())) throw signatureDoesNotMatch();
    return { caller: credential.caller, scope, presigned };
  }

  private checkTime(signedAt: Date, auth: ParsedAuth): void {
    const now = this.now();
    if (auth.expiresSeconds !== undefined) {
      // Presigned: valid from X-Amz-Date (give or take the clock skew) for X-Amz-Expires seconds.
      const expiresAt = signedAt.getTime() + auth.expiresSeconds * 1000;
      if (expiresAt < now) throw invalidSignature(`Signature expired: ${amzDate(expiresAt)} is now earlier than ${amzDate(now)}`);
    } else if (signedAt.getTime() < now - MAX_CLOCK_SKEW_MS) {
      throw invalidSignature(`Signature expired: ${auth.amzDate} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 15 min.)`);
    }
    if (signedAt.getTime() > now + MAX_CLOCK_SKEW_MS) {
      throw invalidSignature(`Signature not yet current: ${auth.amzDate} is still later than ${amzDate(now + MAX_CLOCK_SKEW_MS)} (${amzDate(now)} + 15 min.)`);
    }
  }

  private checkScope(scope: CredentialScope & { terminator: string }, date: string, service: string | undefined): void {
    if (scope.date !== date.slice(0, 8)) {
      throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${date.slice(0, 8)}', from '${date}'.`);
    }
    if (!this.isValidRegion(scope.region)) throw invalidSignature(`Credential should be scoped to a valid region, not '${scope.region}'. `);
    if (service !== undefined && scope.service !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'. `);
    if (scope.terminator !== 'aws4_request') throw invalidSignature(`Credential should be scoped with a valid terminator: 'aws4_request', not '${scope.terminator}'. `);
  }
}

interface ParsedAuth {
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** Presigned requests only. */
  expiresSeconds?: number;
}

const WELL_FORMED = /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([^,\s]+)$/;

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, with AWS's complaints when it is not. */
function parseAuthorizationHeader(authorization: string, amzDateHeader: string | undefined): ParsedAuth {
  // What every SDK sends, in one match; anything else takes the long way to its error message.
  const m = amzDateHeader !== undefined ? WELL_FORMED.exec(authorization) : null;
  if (m) return { credential: m[1]!, signedHeaders: m[2]!.split(';'), signature: m[3]!, amzDate: amzDateHeader! };
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  const params = new Map<string, string>();
  if (algorithm === ALGORITHM) {
    for (const part of authorization.slice(space + 1).split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq < 0) throw incompleteSignature(`'${item}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`);
      params.set(item.slice(0, eq), item.slice(eq + 1));
    }
  } else if (algorithm.startsWith('AWS4-') && space > 0) {
    throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  }
  const missing = [
    ...['Credential', 'Signature', 'SignedHeaders'].filter((name) => !params.get(name)).map((name) => `Authorization header requires '${name}' parameter.`),
    ...(amzDateHeader === undefined ? ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."] : []),
  ];
  if (missing.length > 0) throw incompleteSignature(`${missing.join(' ')} Authorization=${authorization}`);
  return {
    credential: params.get('Credential')!,
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature: params.get('Signature')!,
    amzDate: amzDateHeader!,
  };
}

function parsePresigned(query: IncomingRequest['query']): ParsedAuth {
  const values = PRESIGN_PARAMS.map((name) => query1(query, name));
  const missing = PRESIGN_PARAMS.filter((_, i) => !values[i]);
  if (missing.length > 0) {
    throw incompleteSignature(`${missing.map((name) => `AWS query-string parameters must include '${name}'.`).join(' ')} Re-examine the query-string parameters.`);
  }
  const [algorithm, credential, amzDate, expires, signedHeaders, signature] = values as string[];
  if (algorithm !== ALGORITHM) throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  const expiresSeconds = Number(expires);
  if (!/^[1-9]\d{0,6}$/.test(expires!) || expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incompleteSignature(`X-Amz-Expires must be a number of seconds between 1 and ${MAX_PRESIGNED_EXPIRES_SECONDS} (one week), not '${expires}'.`);
  }
  return { credential: credential!, signedHeaders: signedHeaders!.split(';'), signature: signature!, amzDate: amzDate!, expiresSeconds };
}

function parseCredential(credential: string): CredentialScope & { terminator: string } {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw incompleteSignature(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator };
}

/**
 * The credential scope a request claims, without verifying anything (for
 * `--accept-any-credentials`, where the scope still picks the region).
 */
export function readCredentialScope(req: Pick<IncomingRequest, 'headers' | 'query'>): CredentialScope | undefined {
  const credential = query1(req.query, 'X-Amz-Credential') ?? /Credential=([^,\s]+)/.exec(header(req.headers, 'authorization') ?? '')?.[1];
  const parts = credential?.split('/');
  if (!parts || parts.length !== 5) return undefined;
  return { accessKeyId: parts[0]!, date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseAmzDate(text: string): Date {
  const m = AMZ_DATE.exec(text);
  const [year, month, day, hour, minute, second] = m ? m.slice(1).map(Number) : [];
  const date = m ? new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!)) : undefined;
  // Date.UTC rolls impossible dates over (month 13, Feb 30, 25:00): those are not dates.
  if (!date || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${text}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return date;
}

/** 20260101T120000Z */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The signature the client should have sent: SigV4's canonical request over exactly what the
 * client signed (its SignedHeaders, its query, the body received), the string to sign, and the
 * HMAC under the derived signing key. Canonical headers and query, URI escaping and the signing
 * key derivation are @smithy/signature-v4's (the SDK signer's own functions); the derived key is
 * cached per credential, day, region and service.
 */
async function computeSignature(req: IncomingRequest, auth: ParsedAuth, scope: CredentialScope, credential: SigningCredential, signingKeys: SigningKeyCache): Promise<string> {
  const payloadHash = await payloadSha256(req.body ?? EMPTY);
  // A client's own payload hash (the JS SDK sends one) must be the body's.
  const claimed = header(req.headers, CONTENT_SHA256);
  if (claimed !== undefined && claimed !== payloadHash) throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");

  const signedHeaders = auth.signedHeaders.map((h) => h.toLowerCase());
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = header(req.headers, name) ?? '';
  const canonicalHeaders = getCanonicalHeaders({ headers } as never, undefined, new Set(signedHeaders));
  const names = Object.keys(canonicalHeaders).sort();
  const canonicalRequest = [
    req.method,
    canonicalPath(req.path),
    getCanonicalQuery({ query: req.query } as never), // leaves X-Amz-Signature out
    ...names.map((name) => `${name}:${canonicalHeaders[name]}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const credentialScope = createScope(scope.date, scope.region, scope.service);
  const stringToSign = `${ALGORITHM}\n${auth.amzDate}\n${credentialScope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const key = await signingKeys.get(scope, credential);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

const EMPTY = new Uint8Array();

/** The payload is hashed this many bytes at a time, yielding to the event loop in between. */
export const PAYLOAD_HASH_SLICE_BYTES = 1024 * 1024;

/**
 * The body's SHA-256 in hex. A 27 MiB UploadLayerPart body takes 20–40 ms to hash: in one call
 * that stalls every other request, so a large body is hashed a slice at a time (~1 ms each)
 * with the loop free in between.
 */
export async function payloadSha256(body: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < body.byteLength || at === 0; at += PAYLOAD_HASH_SLICE_BYTES) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    hash.update(body.subarray(at, at + PAYLOAD_HASH_SLICE_BYTES));
  }
  return hash.digest('hex');
}

/** SigV4's canonical URI as the SDK signer builds it: dot-segments resolved, each segment URI-escaped again. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** Derived signing keys (kSigning), per credential, day, region and service; a bounded map. */
class SigningKeyCache {
  private readonly keys = new Map<string, { credential: SigningCredential; key: Promise<KeyObject> }>();

  constructor(private readonly max = 1000) {}

  get(scope: CredentialScope, credential: SigningCredential): Promise<KeyObject> {
    const id = `${scope.accessKeyId}/${scope.date}/${scope.region}/${scope.service}`;
    const hit = this.keys.get(id);
    // The same key id with another secret (rotated, re-seeded) derives anew.
    if (hit && hit.credential.secretAccessKey === credential.secretAccessKey) return hit.key;
    if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value!);
    const key = getSigningKey(Sha256, { accessKeyId: scope.accessKeyId, secretAccessKey: credential.secretAccessKey }, scope.date, scope.region, scope.service).then((k) =>
      createSecretKey(k),
    );
    this.keys.set(id, { credential, key });
    return key;
  }
}

function header(headers: IncomingRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  // Repeated headers are joined with commas, as SigV4's canonical form does.
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(',');
}

function query1(query: IncomingRequest['query'], name: string): string | undefined {
  const value = query[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
