/**
 * Raw awsJson1_1 requests, signed with the test credentials (sign.ts), and their answers as
 * they came: status, headers, text and, when it parses, the JSON body.
 */
import { request } from 'undici';
import type { ServiceModule } from '../../src/aws/service.js';
import { signedFormHeaders, signedJsonHeaders } from './sign.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown> | undefined;
}

/** The SigV4 signing name of a service module (what its SDK client signs with). */
export const signingName = (service: ServiceModule) => service.model.metadata.signingName ?? service.model.metadata.endpointPrefix;

/** POST / with `headers` and `body` as given (signed or not), and the answer. */
export async function rawPost(endpoint: string, body: string | undefined, headers: Record<string, string>): Promise<RawResponse> {
  const res = await request(`${endpoint}/`, { method: 'POST', headers, body });
  // An event stream (StartLiveTail) lasts as long as the client reads it: its answer is the status and headers.
  if (String(res.headers['content-type']).startsWith('application/vnd.amazon.eventstream')) {
    res.body.destroy();
    return { status: res.statusCode, headers: res.headers, text: '', json: undefined };
  }
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** Access keys to sign with (default: the test server's root key). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** POST / with `X-Amz-Target: target` and `body` as is, signed for `service` (its signing name). */
export async function postSigned(
  endpoint: string,
  opts: { service: string; target: string; body: string; region?: string; headers?: Record<string, string>; credentials?: Credentials },
): Promise<RawResponse> {
  const headers = await signedJsonHeaders(endpoint, opts.target, opts.body, { service: opts.service, region: opts.region, headers: opts.headers, credentials: opts.credentials });
  return rawPost(endpoint, opts.body, headers);
}

/** POST / with a form-encoded awsQuery `body` as is (IAM, STS), signed for `service` (its signing name). */
export async function postSignedForm(endpoint: string, opts: { service: string; body: string; region?: string; credentials?: Credentials }): Promise<RawResponse> {
  const headers = await signedFormHeaders(endpoint, opts.body, { service: opts.service, region: opts.region, credentials: opts.credentials });
  return rawPost(endpoint, opts.body, headers);
}
