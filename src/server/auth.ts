/**
 * The front door's authentication: every AWS API request (and any other route that calls
 * `authenticate`) is verified with SigV4 and resolved to a Caller before anything else runs.
 * With `--accept-any-credentials` nothing is verified: the caller is 'trusted' under whatever
 * key id the request names (today's behaviour, for test suites).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidSignature } from '../aws/errors.js';
import { readCredentialScope, SigV4Verifier, type IncomingRequest } from '../aws/sigv4.js';
import type { Caller, CredentialResolver } from '../iam/principal.js';

export interface Authenticated {
  caller: Caller;
  /** The verified credential scope's region (the server's default for unsigned requests in accept-any mode). */
  region: string;
  accessKeyId: string | undefined;
}

export interface AuthenticatorOptions {
  credentials: CredentialResolver;
  accountId: string;
  defaultRegion: string;
  isValidRegion: (region: string) => boolean;
  acceptAnyCredentials?: boolean;
  /** Epoch milliseconds. */
  now?: () => number;
}

export class RequestAuthenticator {
  private readonly verifier: SigV4Verifier;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.verifier = new SigV4Verifier({ credentials: opts.credentials, isValidRegion: opts.isValidRegion, now: opts.now });
  }

  get acceptsAnyCredentials(): boolean {
    return this.opts.acceptAnyCredentials ?? false;
  }

  /**
   * Who sent `req`, or the AwsError to answer. `service` is the signing name the request is
   * for (the credential scope must name it); omitted, the scope's service is taken as signed.
   */
  async authenticate(req: IncomingRequest, service?: string): Promise<Authenticated> {
    if (this.opts.acceptAnyCredentials) return this.trusted(req);
    const verified = await this.verifier.verify(req, service);
    return { caller: verified.caller, region: verified.scope.region, accessKeyId: verified.scope.accessKeyId };
  }

  private trusted(req: IncomingRequest): Authenticated {
    const scope = readCredentialScope(req);
    // Even unverified, the region ends up in ARNs: only real regions pass.
    if (scope && !this.opts.isValidRegion(scope.region)) throw invalidSignature(`Credential should be scoped to a valid region, not '${scope.region}'. `);
    const { accountId } = this.opts;
    return {
      caller: { kind: 'trusted', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId, accessKeyId: scope?.accessKeyId },
      region: scope?.region ?? this.opts.defaultRegion,
      accessKeyId: scope?.accessKeyId,
    };
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticator: RequestAuthenticator;
  }
}

/** Makes `authenticate(request)` work in every route of `app` (and its plugins). */
export function installAuthenticator(app: FastifyInstance, authenticator: RequestAuthenticator): void {
  app.decorate('authenticator', authenticator);
}

/**
 * Authenticates a fastify request with SigV4 (header or presigned query). The route must keep
 * the body as the raw bytes the client sent (the root content-type parser does: a Buffer).
 * Throws the AwsError to send (see AwsError.query for the awsQuery name).
 */
export function authenticate(request: FastifyRequest, opts: { service?: string } = {}): Promise<Authenticated> {
  return request.server.authenticator.authenticate(incomingRequest(request), opts.service);
}

export function incomingRequest(request: FastifyRequest): IncomingRequest {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
      const seen = query[key];
      query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
  }
  const body = request.body;
  return {
    method: request.raw.method ?? 'GET',
    path: q >= 0 ? url.slice(0, q) : url,
    query,
    headers: request.headers,
    body: Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : undefined,
  };
}
