/**
 * STS sessions: temporary credentials (ASIA… id, secret, session token) for an assumed role
 * (AssumeRole, and task roles through `issueForService`) or for a user (GetSessionToken).
 * Secrets and tokens are stored sealed; a session is refused after its expiry.
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../../aws/errors.js';
import type { RequestContext } from '../../aws/service.js';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Caller, RoleCredentialsIssuer, SigningCredential, TemporaryCredentials } from '../../iam/principal.js';
import * as c from '../../store/collections.js';
import type { IamRoleDoc, StsSessionDoc } from '../../store/collections.js';
import type { Store } from '../../store/store.js';
import { accessKeyId, secretAccessKey } from '../iam/ids.js';
import { checkPolicyDocument, policySize } from '../iam/policy-document.js';
import type { Roles } from '../iam/roles.js';
import { trustPolicyAllows } from './trust.js';

const validation = (message: string) => new AwsError('ValidationError', message);
const accessDenied = (message: string) => new AwsError('AccessDenied', message, 403);

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** Sessions are kept this long after expiry (so their use is answered ExpiredToken), then swept. */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export class StsSessions implements RoleCredentialsIssuer {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly roles: Roles,
    private readonly secrets: SecretBox,
  ) {}

  getCallerIdentity(ctx: RequestContext) {
    const { caller } = ctx;
    return { UserId: caller.userId, Account: caller.accountId, Arn: caller.arn };
  }

  async assumeRole(
    ctx: RequestContext,
    input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number; Policy?: string; ExternalId?: string },
  ) {
    const { caller } = ctx;
    if (!SESSION_NAME.test(input.RoleSessionName)) {
      throw validation(
        `1 validation error detected: Value '${input.RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const role = await this.roles.byArn(caller.accountId, input.RoleArn);
    if (!role || !trustPolicyAllows(role.assumeRolePolicyDocument, { roleArn: role.arn, principal: { caller }, externalId: input.ExternalId })) {
      throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
    }
    const duration = input.DurationSeconds ?? 3600;
    if (caller.kind === 'assumed-role' && duration > 3600) {
      throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (duration > role.maxSessionDuration) throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    let packedPolicySize: number | undefined;
    if (input.Policy !== undefined) {
      try {
        checkPolicyDocument(input.Policy, 'identity');
      } catch (e) {
        throw new AwsError('MalformedPolicyDocumentException', e instanceof Error ? e.message : 'Syntax errors in policy.');
      }
      packedPolicySize = Math.ceil((policySize(input.Policy) / 2048) * 100);
      if (packedPolicySize > 100) throw new AwsError('PackedPolicyTooLargeException', `Packed size of consumed sessions policies exceeds 2048 characters by ${packedPolicySize - 100}%.`);
    }
    const { credentials, assumedRoleUser } = await this.issueForRole(role, input.RoleSessionName, duration, input.Policy);
    return {
      Credentials: wireCredentials(credentials),
      AssumedRoleUser: assumedRoleUser,
      PackedPolicySize: packedPolicySize,
    };
  }

  async getSessionToken(ctx: RequestContext, input: { DurationSeconds?: number }) {
    const { caller } = ctx;
    if (caller.kind === 'assumed-role' || caller.accessKeyId?.startsWith('ASIA')) throw accessDenied('Cannot call GetSessionToken with session credentials');
    if (caller.kind !== 'user' && caller.kind !== 'root') throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:GetSessionToken`);
    // Root sessions last at most an hour; users' up to 36 hours (the model's range), 12 by default.
    const duration = caller.kind === 'root' ? Math.min(input.DurationSeconds ?? 3600, 3600) : (input.DurationSeconds ?? 43200);
    const credentials = await this.createSession(caller.accountId, duration, { kind: caller.kind, arn: caller.arn, userId: caller.userId });
    return { Credentials: wireCredentials(credentials) };
  }

  /** RoleCredentialsIssuer: a task role's credentials, if the role trusts `service`. */
  async issueForService(roleArn: string, opts: { sessionName: string; service: string; durationSeconds?: number }): Promise<TemporaryCredentials> {
    const accountId = /^arn:aws:iam::([0-9]{12}):role\//.exec(roleArn)?.[1];
    const role = accountId ? await this.roles.byArn(accountId, roleArn) : undefined;
    if (!role || !trustPolicyAllows(role.assumeRolePolicyDocument, { roleArn: role.arn, principal: { service: opts.service } })) {
      throw accessDenied(`${opts.service} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const sessionName = opts.sessionName.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
    const duration = Math.min(opts.durationSeconds ?? 3600, role.maxSessionDuration);
    return (await this.issueForRole(role, sessionName, duration)).credentials;
  }

  private async issueForRole(role: IamRoleDoc, sessionName: string, durationSeconds: number, sessionPolicy?: string) {
    const caller = {
      kind: 'assumed-role' as const,
      arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      roleArn: role.arn,
    };
    const credentials = await this.createSession(role.accountId, durationSeconds, caller, sessionPolicy);
    return { credentials, assumedRoleUser: { AssumedRoleId: caller.userId, Arn: caller.arn } };
  }

  private async createSession(accountId: string, durationSeconds: number, caller: StsSessionDoc['caller'], sessionPolicy?: string): Promise<TemporaryCredentials> {
    const nowMs = Math.floor(this.clock.now() * 1000);
    const credentials: TemporaryCredentials = {
      accessKeyId: accessKeyId('ASIA'),
      secretAccessKey: secretAccessKey(),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date(nowMs + durationSeconds * 1000),
    };
    const session: StsSessionDoc = {
      accountId,
      accessKeyId: credentials.accessKeyId,
      sealedSecret: this.secrets.seal(credentials.secretAccessKey),
      sealedSessionToken: this.secrets.seal(credentials.sessionToken),
      expiresAt: credentials.expiration.getTime(),
      caller,
      sessionPolicy,
    };
    await this.store.write(async (tx) => {
      await tx.insert(c.stsSessions, session.accessKeyId, session);
      // Sweep a few long-expired sessions on each issue, oldest first.
      for (const old of await tx.select(c.stsSessions, ['expires_at'], { orderBy: [['expires_at', 'asc']], limit: 20 })) {
        if ((old.expires_at as number) >= nowMs - KEEP_EXPIRED_MS) break;
        await tx.delete(c.stsSessions, old.pk);
      }
    });
    return credentials;
  }

  /** The signing credential of a session (for the SigV4 gate), expired ones included so they are answered ExpiredToken. */
  async signingCredential(id: string): Promise<SigningCredential | undefined> {
    const session = (await this.store.read((tx) => tx.get(c.stsSessions, id)))?.data;
    if (!session) return undefined;
    const caller: Caller = { ...session.caller, accountId: session.accountId, accessKeyId: session.accessKeyId };
    return {
      secretAccessKey: this.secrets.open(session.sealedSecret),
      sessionToken: this.secrets.open(session.sealedSessionToken),
      expiresAt: session.expiresAt,
      caller,
    };
  }
}

function wireCredentials(c: TemporaryCredentials) {
  return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration };
}
