/**
 * Signs raw HTTP requests to Dockyard's AWS APIs with SigV4 (@smithy/signature-v4, the SDKs' own
 * signer), for tests that must send what no SDK would (wrong JSON types, nulls, odd targets, raw
 * forms) and still pass signature verification. Defaults: the test root key, us-east-1, ECS.
 * signed-http.ts sends such requests and reads the answers.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { credentials as testCredentials } from './dockyard.js';

export const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';
export const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921';

export interface SignOptions {
  region?: string;
  /** Signing name in the scope (ecs, ecr, …). */
  service?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** When the request claims to be signed (default now). */
  date?: Date;
  /** Extra headers, signed along. */
  headers?: Record<string, string>;
  /** Send and sign x-amz-content-sha256 (the JS SDK does, botocore does not); default true. */
  applyChecksum?: boolean;
}

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

/** POST / with `body` and `headers` (content-type included), as the signer sees it. */
function postRequest(endpoint: string, body: string, headers: Record<string, string>): HttpRequest {
  const url = new URL(endpoint);
  return new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, ...headers }, body });
}

function jsonRequest(endpoint: string, target: string, body: string, headers: Record<string, string> = {}): HttpRequest {
  return postRequest(endpoint, body, { 'content-type': JSON_CONTENT_TYPE, 'x-amz-target': target, ...headers });
}

function signer(opts: SignOptions): SignatureV4 {
  return new SignatureV4({
    credentials: opts.credentials ?? testCredentials,
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'ecs',
    sha256: Sha256,
    applyChecksum: opts.applyChecksum ?? true,
  });
}

/** Headers for POST / with `X-Amz-Target: target` and `body`, signed in the Authorization header. */
export async function signedJsonHeaders(endpoint: string, target: string, body: string, opts: SignOptions = {}): Promise<Record<string, string>> {
  const signed = await signer(opts).sign(jsonRequest(endpoint, target, body, opts.headers), { signingDate: opts.date ?? new Date() });
  return signed.headers;
}

/** Headers for an awsQuery POST / of the form `body` (IAM, STS: give `service`), signed in the Authorization header. */
export async function signedFormHeaders(endpoint: string, body: string, opts: SignOptions = {}): Promise<Record<string, string>> {
  const request = postRequest(endpoint, body, { 'content-type': FORM_CONTENT_TYPE, ...opts.headers });
  const signed = await signer(opts).sign(request, { signingDate: opts.date ?? new Date() });
  return signed.headers;
}

/** A presigned URL (query-string signature) and the headers to send with it. */
export async function presignedJson(
  endpoint: string,
  target: string,
  body: string,
  opts: SignOptions & { expiresIn?: number } = {},
): Promise<{ url: string; headers: Record<string, string> }> {
  const request = jsonRequest(endpoint, target, body, opts.headers);
  const signed = await signer(opts).presign(request, {
    signingDate: opts.date ?? new Date(),
    expiresIn: opts.expiresIn ?? 900,
    // Keep the request's own headers as headers (the target routes the call).
    unhoistableHeaders: new Set(['x-amz-target']),
  });
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) for (const one of Array.isArray(v) ? v : [v]) if (one != null) query.append(k, one);
  return { url: `${endpoint}/?${query.toString()}`, headers: signed.headers };
}

/** POSTs an awsJson1_1 call signed with SigV4; answers the status and the parsed body. */
export async function signedJsonCall(
  endpoint: string,
  target: string,
  body: unknown,
  opts: SignOptions = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = await signedJsonHeaders(endpoint, target, text, opts);
  delete headers.host; // fetch sets it
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers, body: text });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}
