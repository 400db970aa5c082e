/**
 * `dockyard reset --endpoint URL`: asks a Dockyard started with --enable-reset to wipe its state.
 * The request is SigV4-signed like any AWS call, with the credentials the AWS CLI would use from
 * the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ResetReport } from '../server/reset.js';
import { RESET_PATH } from '../server/reset.js';

export interface ResetCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The environment's AWS credentials, or an error saying which variables are missing. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): ResetCredentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) throw new Error('dockyard reset signs its request: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the account root key)');
  return { accessKeyId, secretAccessKey, sessionToken: sessionToken || undefined };
}

export async function requestReset(endpoint: string, credentials: ResetCredentials, region: string): Promise<ResetReport> {
  const url = new URL(RESET_PATH, endpoint);
  const signer = new SignatureV4({ service: 'dockyard', region, credentials, sha256: Sha256 });
  const request = await signer.sign(
    new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port) || undefined, path: url.pathname, headers: { host: url.host }, body: '' }),
  );
  const res = await fetch(url, { method: 'POST', headers: request.headers as Record<string, string>, body: '' });
  const text = await res.text();
  if (res.status === 404) throw new Error(`${endpoint} does not serve ${RESET_PATH}: start it with \`dockyard up --enable-reset\``);
  if (!res.ok) throw new Error(`reset refused (${res.status}): ${text}`);
  return JSON.parse(text) as ResetReport;
}
