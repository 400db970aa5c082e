/**
 * Signature Version 4 verification, independent of any wire protocol: given the request as it
 * arrived (method, path, query, headers, raw body bytes) it checks the Authorization-header
 * form or the presigned query form (X-Amz-Algorithm, -Credential, -Date, -Expires,
 * -SignedHeaders, -Signature, -Security-Token) and answers who signed it, or throws the
 * AwsError AWS answers (each protocol serializes it in its own shape).
 *
 * The signature the client should have sent is computed from the request as received and
 * compared in constant time. The SigV4 pieces come from @smithy/signature-v4 (the AWS SDK's
 * signer): the canonical query, URI escaping, the credential scope and the signing-key
 * derivation (HMAC chain); the derived keys are cached per credential, day, region and service,
 * so a verification costs two one-shot SHA-256 (body, canonical request) and one HMAC, natively
 * (node:crypto). The common shapes (path `/`, no query, header values without folding
 * whitespace, SignedHeaders already canonical) skip the general helpers; what they would have
 * built is the same text (bench/sigv4-cost.ts measures each piece). Re-signing the whole
 * request through SignatureV4.sign() cost more CPU than the API call it guards;
 * test/sigv4-equivalence.test.ts checks that whatever SignatureV4 signs, this verifies.
 */
import { partition } from '@aws-sdk/core/client';
import { escapeUri } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { createScope, getCanonicalHeaders, getCanonicalQuery, getSigningKey } from '@smithy/signature-v4';
import { createHash, createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
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
    if (!auth.signedHeaders.includes('host')) throw incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
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

    const key = this.signingKeys.get(scope, credential);
    // The body is hashed once: for the canonical request and for a client's own claim.
    const body = req.body ?? EMPTY;
    const hashed = payloadSha256(body);
    const payloadHash = typeof hashed === 'string' ? hashed : await hashed;
    const expected = computeSignature(req, auth, scope, key instanceof Promise ? await key : key, payloadHash);
    if (!sameSignature(expected, auth.signature)) throw signatureDoesNotMatch();
    return { caller: credential.caller, scope, presigned };
  }

  /** `signedAt`: epoch milliseconds. */
  private checkTime(signedAt: number, auth: ParsedAuth): void {
    const now = this.now();
    if (auth.expiresSeconds !== undefined) {
      // Presigned: valid from X-Amz-Date (give or take the clock skew) for X-Amz-Expires seconds.
      const expiresAt = signedAt + auth.expiresSeconds * 1000;
      if (expiresAt < now) throw invalidSignature(`Signature expired: ${amzDate(expiresAt)} is now earlier than ${amzDate(now)}`);
    } else if (signedAt < now - MAX_CLOCK_SKEW_MS) {
      throw invalidSignature(`Signature expired: ${auth.amzDate} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 15 min.)`);
    }
    if (signedAt > now + MAX_CLOCK_SKEW_MS) {
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
  /** SignedHeaders as sent, split at ';' and lower-cased. */
  signedHeaders: string[];
  /** SignedHeaders as sent (when already canonical, it is the canonical request's line). */
  signedHeadersText: string;
  signature: string;
  amzDate: string;
  /** Presigned requests only. */
  expiresSeconds?: number;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, with AWS's complaints when it is not. */
function parseAuthorizationHeader(authorization: string, amzDateHeader: string | undefined): ParsedAuth {
  // What every SDK sends, in one pass; anything else takes the long way to its error message.
  const wellFormed = amzDateHeader !== undefined ? parseWellFormed(authorization, amzDateHeader) : undefined;
  if (wellFormed) return wellFormed;
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
    signedHeaders: signedHeaderNames(params.get('SignedHeaders')!),
    signedHeadersText: params.get('SignedHeaders')!,
    signature: params.get('Signature')!,
    amzDate: amzDateHeader!,
  };
}

const CREDENTIAL_PREFIX = 'AWS4-HMAC-SHA256 Credential=';

/**
 * `AWS4-HMAC-SHA256 Credential=<c>,[ ]SignedHeaders=<h>,[ ]Signature=<s>` exactly, each value
 * non-empty and free of commas and whitespace (what the SDKs, botocore and the CLI send), or
 * undefined. indexOf scans only: no backtracking.
 */
function parseWellFormed(authorization: string, amzDateHeader: string): ParsedAuth | undefined {
  if (!authorization.startsWith(CREDENTIAL_PREFIX)) return undefined;
  const credentialEnd = authorization.indexOf(',', CREDENTIAL_PREFIX.length);
  if (credentialEnd < 0) return undefined;
  let at = credentialEnd + 1;
  if (authorization.charCodeAt(at) === 32) at++;
  if (!authorization.startsWith('SignedHeaders=', at)) return undefined;
  const headersStart = at + 'SignedHeaders='.length;
  const headersEnd = authorization.indexOf(',', headersStart);
  if (headersEnd < 0) return undefined;
  at = headersEnd + 1;
  if (authorization.charCodeAt(at) === 32) at++;
  if (!authorization.startsWith('Signature=', at)) return undefined;
  const signatureStart = at + 'Signature='.length;
  const credential = authorization.slice(CREDENTIAL_PREFIX.length, credentialEnd);
  const signedHeadersText = authorization.slice(headersStart, headersEnd);
  const signature = authorization.slice(signatureStart);
  if (!plainValue(credential) || !plainValue(signedHeadersText) || !plainValue(signature)) return undefined;
  return { credential, signedHeaders: signedHeaderNames(signedHeadersText), signedHeadersText, signature, amzDate: amzDateHeader };
}

/** Non-empty, and no comma or whitespace (the well-formed header's values). */
function plainValue(text: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ',' and what \s matches in ASCII, and anything beyond ASCII (Unicode spaces) to be safe.
    if (c === 44 || c <= 32 || c >= 127) return false;
  }
  return true;
}

function signedHeaderNames(text: string): string[] {
  return text.toLowerCase().split(';');
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
  return { credential: credential!, signedHeaders: signedHeaderNames(signedHeaders!), signedHeadersText: signedHeaders!, signature: signature!, amzDate: amzDate!, expiresSeconds };
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

/** `yyyymmddThhmmssZ` → epoch milliseconds; impossible dates (month 13, Feb 30, 25:00) are not dates. */
function parseAmzDate(text: string): number {
  const [year, month, day, hour, minute, second] = [digits(text, 0, 4), digits(text, 4, 2), digits(text, 6, 2), digits(text, 9, 2), digits(text, 11, 2), digits(text, 13, 2)];
  const wellFormed = text.length === 16 && text[8] === 'T' && text[15] === 'Z' && year >= 0 && month >= 1 && month <= 12;
  // Day 0 of the next month is this month's last day.
  if (!wellFormed || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate() || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${text}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The decimal number in text[from, from + count), or -1 if any of it is not a digit. */
function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** 20260101T120000Z */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The signature the client should have sent, as the raw HMAC: SigV4's canonical request over
 * exactly what the client signed (its SignedHeaders, its query, the body received), the string
 * to sign, and the HMAC under the derived signing key.
 */
function computeSignature(req: IncomingRequest, auth: ParsedAuth, scope: CredentialScope, key: KeyObject, payloadHash: string): Buffer {
  // A client's own payload hash (the JS SDK sends one) must be the body's.
  const claimed = header(req.headers, CONTENT_SHA256);
  if (claimed !== undefined && claimed !== payloadHash) throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");

  const canonicalRequest = `${req.method}\n${canonicalPath(req.path)}\n${canonicalQuery(req.query)}\n${canonicalHeaders(req.headers, auth)}${payloadHash}`;
  const stringToSign = `${ALGORITHM}\n${auth.amzDate}\n${createScope(scope.date, scope.region, scope.service)}\n${hash('sha256', canonicalRequest, 'hex')}`;
  return createHmac('sha256', key).update(stringToSign).digest();
}

const EMPTY = new Uint8Array();

/**
 * The canonical headers' lines, a blank line and the signed-header list (each line ends in \n).
 * When SignedHeaders is already lower case, sorted and without repeats (as every signer sends
 * it) and the values need no whitespace folding, the text is built straight; otherwise
 * @smithy/signature-v4's getCanonicalHeaders builds it.
 */
function canonicalHeaders(headers: IncomingRequest['headers'], auth: ParsedAuth): string {
  const names = auth.signedHeaders;
  let lines = '';
  let ordered = auth.signedHeadersText === names.join(';');
  for (let i = 0; ordered && i < names.length; i++) {
    const value = header(headers, names[i]!) ?? '';
    ordered = (i === 0 || names[i - 1]! < names[i]!) && !needsFolding(value);
    lines += `${names[i]}:${value}\n`;
  }
  if (ordered) return `${lines}\n${auth.signedHeadersText}\n`;
  const values: Record<string, string> = {};
  for (const name of names) values[name] = header(headers, name) ?? '';
  const canonical = getCanonicalHeaders({ headers: values } as never, undefined, new Set(names));
  const sorted = Object.keys(canonical).sort();
  return `${sorted.map((name) => `${name}:${canonical[name]}\n`).join('')}\n${sorted.join(';')}\n`;
}

/** Would SigV4's value canonicalization (CR/LF to space, runs of space/tab to one, trim) change `value`? */
function needsFolding(value: string): boolean {
  let previous = 32; // a leading space counts as folding
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || (c === 32 && previous === 32)) return true;
    previous = c;
  }
  return previous === 32 && value.length > 0;
}

/** SigV4's canonical query: @smithy/signature-v4's (without X-Amz-Signature); none is the empty line. */
function canonicalQuery(query: IncomingRequest['query']): string {
  for (const _ in query) return getCanonicalQuery({ query } as never);
  return '';
}

/** The payload is hashed this many bytes at a time, yielding to the event loop in between. */
export const PAYLOAD_HASH_SLICE_BYTES = 1024 * 1024;

/**
 * The body's SHA-256 in hex. A 27 MiB UploadLayerPart body takes 20–40 ms to hash: in one call
 * that stalls every other request, so a large body is hashed a slice at a time (~1 ms each)
 * with the loop free in between.
 */
export function payloadSha256(body: Uint8Array): string | Promise<string> {
  // Small bodies (every API call but layer uploads): one one-shot hash, answered without a promise.
  if (body.byteLength <= PAYLOAD_HASH_SLICE_BYTES) return hash('sha256', body, 'hex');
  return slicedSha256(body);
}

async function slicedSha256(body: Uint8Array): Promise<string> {
  const sha = createHash('sha256');
  for (let at = 0; at < body.byteLength; at += PAYLOAD_HASH_SLICE_BYTES) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    sha.update(body.subarray(at, at + PAYLOAD_HASH_SLICE_BYTES));
  }
  return sha.digest('hex');
}

/** SigV4's canonical URI as the SDK signer builds it: dot-segments resolved, each segment URI-escaped again. */
function canonicalPath(path: string): string {
  if (path === '/') return path; // every awsJson and awsQuery request
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/**
 * Derived signing keys (kSigning), per credential, day, region and service; a bounded map. A
 * hit answers the key itself (no promise to await); a miss derives it with the SDK's
 * getSigningKey (asynchronous).
 */
class SigningKeyCache {
  private readonly keys = new Map<string, { secretAccessKey: string; key: KeyObject | Promise<KeyObject> }>();

  constructor(private readonly max = 1000) {}

  get(scope: CredentialScope, credential: SigningCredential): KeyObject | Promise<KeyObject> {
    const id = `${scope.accessKeyId}/${scope.date}/${scope.region}/${scope.service}`;
    const hit = this.keys.get(id);
    // The same key id with another secret (rotated, re-seeded) derives anew.
    if (hit && hit.secretAccessKey === credential.secretAccessKey) return hit.key;
    if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value!);
    const entry: { secretAccessKey: string; key: KeyObject | Promise<KeyObject> } = { secretAccessKey: credential.secretAccessKey, key: undefined! };
    entry.key = getSigningKey(Sha256, { accessKeyId: scope.accessKeyId, secretAccessKey: credential.secretAccessKey }, scope.date, scope.region, scope.service).then((k) => {
      const key = createSecretKey(k);
      entry.key = key;
      return key;
    });
    this.keys.set(id, entry);
    return entry.key;
  }
}

function header(headers: IncomingRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  // Repeated headers are joined with commas, as SigV4's canonical form does. Anything else (a
  // signed header named `__proto__` finds the prototype) is no header.
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : undefined;
}

function query1(query: IncomingRequest['query'], name: string): string | undefined {
  const value = query[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}

const SIGNATURE_HEX = /^[0-9a-fA-F]{64}$/;

/** The HMAC against the signature sent (64 hex digits, either case), in constant time. */
function sameSignature(expected: Buffer, sent: string): boolean {
  return SIGNATURE_HEX.test(sent) && timingSafeEqual(expected, Buffer.from(sent, 'hex'));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
