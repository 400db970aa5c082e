/**
 * Signature Version 4 verification, independent of any wire protocol: given the request as it
 * arrived (method, path, query, headers, raw body bytes) it checks the Authorization-header
 * form or the presigned query form (X-Amz-Algorithm, -Credential, -Date, -Expires,
 * -SignedHeaders, -Signature, -Security-Token) and answers who signed it, or throws the
 * AwsError AWS answers (each protocol serializes it in its own shape).
 *
 * The signing arithmetic is @smithy/signature-v4 (the AWS SDK's own signer): the request is
 * re-signed with the stored secret, restricted to the headers the client signed, and the
 * signatures are compared. Derived signing keys are cached by the signer (per key, day,
 * region and service), so a verification costs a few small hashes.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { partition } from '@aws-sdk/core/client';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
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
/** Headers the signer adds itself; they count only when the client listed them in SignedHeaders. */
const SIGNER_ADDED_HEADERS = ['x-amz-date', 'x-amz-security-token', CONTENT_SHA256];

/**
 * A region AWS knows, by the partition data the AWS SDK ships (@aws-sdk/core): an exact entry of
 * some partition's region list, not merely a name matching its pattern; the `aws-global`-style
 * pseudo-regions are not regions.
 */
export function isKnownAwsRegion(region: string): boolean {
  return !region.endsWith('-global') && 'description' in partition(region);
}

export class SigV4Verifier {
  private readonly isValidRegion: (region: string) => boolean;
  private readonly now: () => number;

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
    const scope = parseCredential(auth.credential);
    const signedAt = parseAmzDate(auth.amzDate);
    this.checkTime(signedAt, auth);
    this.checkScope(scope, auth.amzDate, service);

    const credential = await this.opts.credentials.lookup(scope.accessKeyId);
    if (!credential) throw unrecognizedClient();
    const requestToken = presigned ? query1(req.query, SECURITY_TOKEN_PARAM) : header(req.headers, 'x-amz-security-token');
    // Temporary credentials come with their session token; long-term keys come without one.
    if (!sameText(credential.sessionToken ?? '', requestToken ?? '')) throw unrecognizedClient();
    if (credential.expiresAt !== undefined && credential.expiresAt <= this.now()) throw expiredToken();

    const expected = await computeSignature(req, auth, scope, signedAt, credential);
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

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, with AWS's complaints when it is not. */
function parseAuthorizationHeader(authorization: string, amzDateHeader: string | undefined): ParsedAuth {
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
  const date = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  // Round-tripping rejects impossible dates such as month 13 that Date.UTC would roll over.
  if (!date || amzDate(date.getTime()) !== text) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${text}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return date;
}

/** 20260101T120000Z */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Re-signs the request with the stored secret, over exactly what the client signed. */
async function computeSignature(req: IncomingRequest, auth: ParsedAuth, scope: CredentialScope, signedAt: Date, credential: SigningCredential): Promise<string> {
  // The payload hash is computed here (natively) and handed to the signer through the
  // x-amz-content-sha256 header, which it prefers; a client's own value must match the body.
  const payloadHash = createHash('sha256').update(req.body ?? new Uint8Array()).digest('hex');
  const claimed = header(req.headers, CONTENT_SHA256);
  if (claimed !== undefined && claimed !== payloadHash) throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");

  const signedHeaders = new Set(auth.signedHeaders.map((h) => h.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = header(req.headers, name) ?? '';
  headers[CONTENT_SHA256] = payloadHash;
  const unsignable = new Set(SIGNER_ADDED_HEADERS.filter((h) => !signedHeaders.has(h)));

  const query: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (auth.expiresSeconds !== undefined && (PRESIGN_PARAMS as readonly string[]).concat(SECURITY_TOKEN_PARAM).includes(key)) continue;
    query[key] = typeof value === 'string' ? value : [...value];
  }
  const request = new HttpRequest({ method: req.method, protocol: 'http:', hostname: header(req.headers, 'host') ?? '', path: req.path, query, headers });
  const signer = new SignatureV4({
    credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken },
    region: scope.region,
    service: scope.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const options = { signingDate: signedAt, signableHeaders: signedHeaders, unsignableHeaders: unsignable };
  if (auth.expiresSeconds !== undefined) {
    const signed = await signer.presign(request, { ...options, expiresIn: auth.expiresSeconds, unhoistableHeaders: new Set([...signedHeaders, CONTENT_SHA256]) });
    return String(signed.query?.['X-Amz-Signature']);
  }
  const signed = await signer.sign(request, options);
  return /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))![1]!;
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
