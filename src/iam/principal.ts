/**
 * Who is calling, and the seams between authentication (SigV4, src/aws/sigv4.ts), identity
 * (IAM users, access keys, STS sessions: src/services/iam, src/services/sts) and
 * authorization (policy evaluation: src/iam/policy.ts). Handlers never parse credentials:
 * the front door resolves a Caller once per request and hands it over in the RequestContext.
 */

export type CallerKind =
  /** The account's root access key (created by `dockyard up` on first start). */
  | 'root'
  /** An IAM user's access key. */
  | 'user'
  /** Temporary credentials from STS AssumeRole (also task-role and execution-role credentials). */
  | 'assumed-role'
  /** `--accept-any-credentials`: the key id is trusted as is, nothing is verified or evaluated. */
  | 'trusted'
  /** Dockyard itself (embedded agent, controllers): never goes through the network. */
  | 'internal';

export interface Caller {
  readonly kind: CallerKind;
  readonly accountId: string;
  /** arn:aws:iam::<acct>:root | arn:aws:iam::<acct>:user/<name> | arn:aws:sts::<acct>:assumed-role/<role>/<session> */
  readonly arn: string;
  /** What GetCallerIdentity answers as UserId (AIDA…, AROA…:session, or the account id for root). */
  readonly userId: string;
  readonly accessKeyId?: string;
  /** For assumed-role callers: the role's ARN (arn:aws:iam::<acct>:role/<name>). */
  readonly roleArn?: string;
}

/** The secret a request must have been signed with, and who signing with it makes you. */
export interface SigningCredential {
  readonly secretAccessKey: string;
  /** Temporary credentials carry a session token that must come with the request (X-Amz-Security-Token). */
  readonly sessionToken?: string;
  /** Epoch milliseconds after which the credential is refused with ExpiredTokenException. */
  readonly expiresAt?: number;
  readonly caller: Caller;
}

/** Looks up an access key id: the root key, an IAM user's active key, or an STS session. */
export interface CredentialResolver {
  lookup(accessKeyId: string): Promise<SigningCredential | undefined>;
}

/** One authorization question: may `caller` do `action` (e.g. `ecs:RunTask`) on `resource`? */
export interface AuthorizationRequest {
  readonly action: string;
  /** Resource ARNs the action touches ('*' for actions without resource-level permissions). */
  readonly resources: readonly string[];
  /** Condition keys known for this request (aws:SourceIp, ecs:cluster, iam:PassedToService, …). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface Authorizer {
  /** Resolves when allowed; throws the service's AccessDeniedException otherwise. */
  authorize(caller: Caller, request: AuthorizationRequest): Promise<void>;
}

/** Callers IAM does not evaluate: the account root, Dockyard itself, accept-any mode. */
export function isUnevaluated(caller: Caller): boolean {
  return caller.kind === 'root' || caller.kind === 'internal' || caller.kind === 'trusted';
}

/** The root principal of an account. */
export function rootCaller(accountId: string, accessKeyId?: string): Caller {
  return { kind: 'root', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId, accessKeyId };
}

/** Dockyard acting on its own behalf (embedded agent, controllers). */
export function internalCaller(accountId: string): Caller {
  return { kind: 'internal', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId };
}

/** Temporary credentials, as STS AssumeRole returns them. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Mints role-session credentials without a caller's AssumeRole (the control plane vending a
 * task's taskRoleArn / executionRoleArn credentials to the agent that runs the task).
 * Implemented by STS; the role's trust policy must allow `ecs-tasks.amazonaws.com`.
 */
export interface RoleCredentialsIssuer {
  issueForService(roleArn: string, opts: { sessionName: string; service: string; durationSeconds?: number }): Promise<TemporaryCredentials>;
}
