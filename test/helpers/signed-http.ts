/**
 * Raw awsJson1_1 requests signed with SigV4 (@smithy/signature-v4, the SDKs' own signer) using
 * the test credentials, for tests that must send what no SDK would (wrong JSON types, nulls,
 * odd targets) and still pass signature verification.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'undici';
import type { ServiceModule } from '../../src/aws/service.js';
import { credentials } from './dockyard.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown> | undefined;
}

const signers = new Map<string, SignatureV4>();

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A signer for `service` in `region` with `keys` (default: the test server's root key). */
function signer(service: string, region: string, keys: Credentials = credentials): SignatureV4 {
  const key = `${service}/${region}/${keys.accessKeyId}`;
  let s = signers.get(key);
  if (!s) signers.set(key, (s = new SignatureV4({ service, region, credentials: keys, sha256: Sha256, applyChecksum: true })));
  return s;
}

/** The SigV4 signing name of a service module (what its SDK client signs with). */
export const signingName = (service: ServiceModule) => service.model.metadata.signingName ?? service.model.metadata.endpointPrefix;

/** POST / with `X-Amz-Target: target` and `body` as is, signed for `service` (its signing name). */
export async function postSigned(
  endpoint: string,
  opts: { service: string; target: string; body: string; region?: string; headers?: Record<string, string>; credentials?: Credentials },
): Promise<RawResponse> {
  const url = new URL(endpoint);
  const unsigned = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': opts.target,
      ...opts.headers,
    },
    body: opts.body,
  });
  const signed = await signer(opts.service, opts.region ?? 'us-east-1', opts.credentials).sign(unsigned);
  const res = await request(`${endpoint}/`, { method: 'POST', headers: signed.headers, body: opts.body });
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** POST / with a form-encoded awsQuery `body` as is (IAM, STS), signed for `service` (its signing name). */
export async function postSignedForm(endpoint: string, opts: { service: string; body: string; region?: string; credentials?: Credentials }): Promise<RawResponse> {
  const url = new URL(endpoint);
  const unsigned = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: opts.body,
  });
  const signed = await signer(opts.service, opts.region ?? 'us-east-1', opts.credentials).sign(unsigned);
  const res = await request(`${endpoint}/`, { method: 'POST', headers: signed.headers, body: opts.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text(), json: undefined };
}
