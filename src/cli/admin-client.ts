/**
 * The operator's side of the join-token API (`dockyard join-token …`): requests signed with
 * SigV4 using the caller's AWS credentials, found as the AWS CLI finds them (environment
 * variables, then the shared config/credentials profile: AWS_PROFILE or --profile).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent as HttpAgent, request } from 'undici';
import { ADMIN_SIGNING_NAME, JOIN_TOKENS_PATH, SPOT_INTERRUPTIONS_PATH, type JoinTokenView } from '../agent-api/index.js';

export interface AdminClientOptions {
  endpoint: string;
  region?: string;
  profile?: string;
  /** PEM CA that signed the control plane's certificate (https endpoints with a private CA). */
  ca?: string | Buffer;
  /** Sign with these instead of looking them up (programs that hold their own keys). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface CreateJoinTokenRequest {
  description?: string;
  expiresInSeconds?: number;
  maxUses?: number;
  maxCpu?: number;
  maxMemoryMiB?: number;
}

export interface SpotInterruptionOutcome {
  interrupted: { taskArn: string; stopCode: string; stoppedReason: string }[];
  failures: { arn: string; reason: string }[];
}

/** An AWS-shaped error answer of the admin API. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class AdminClient {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly dispatcher: HttpAgent;

  constructor(o: AdminClientOptions) {
    this.url = new URL(o.endpoint);
    const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const fromProfile = fromIni({ profile: o.profile });
    const env = fromEnv();
    // Environment first, then the profile: the AWS CLI's order for static and profile credentials.
    const credentials = async () => o.credentials ?? (o.profile ? fromProfile() : env().catch(() => fromProfile()));
    this.signer = new SignatureV4({ service: ADMIN_SIGNING_NAME, region, credentials, sha256: Sha256 });
    this.dispatcher = new HttpAgent({ connect: o.ca ? { ca: o.ca } : undefined });
  }

  createJoinToken(input: CreateJoinTokenRequest): Promise<JoinTokenView & { token: string }> {
    return this.send('POST', JOIN_TOKENS_PATH, input);
  }

  async listJoinTokens(): Promise<JoinTokenView[]> {
    return (await this.send<{ joinTokens: JoinTokenView[] }>('GET', JOIN_TOKENS_PATH)).joinTokens;
  }

  async revokeJoinToken(tokenId: string): Promise<JoinTokenView> {
    return (await this.send<{ joinToken: JoinTokenView }>('DELETE', `${JOIN_TOKENS_PATH}/${encodeURIComponent(tokenId)}`)).joinToken;
  }

  /** Interrupts FARGATE_SPOT tasks (named, or all of the cluster's) as ECS reclaims Spot capacity. */
  interruptSpotTasks(input: { cluster?: string; taskArns?: string[]; all?: true }): Promise<SpotInterruptionOutcome> {
    return this.send('POST', SPOT_INTERRUPTIONS_PATH, input);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const unsigned = new HttpRequest({
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      method,
      path,
      headers: { host: this.url.host, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload,
    });
    const signed = await this.signer.sign(unsigned);
    const res = await request(new URL(path, this.url), { method: method as 'GET', headers: signed.headers, body: payload, dispatcher: this.dispatcher });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.statusCode !== 200) {
      const err = (parsed ?? {}) as { __type?: string; message?: string };
      throw new AdminApiError(res.statusCode, err.__type ?? `HTTP ${res.statusCode}`, err.message ?? text);
    }
    return parsed as T;
  }
}
