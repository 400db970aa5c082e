/**
 * The authorizer's view of Dockyard's resources (task definitions and their roles, resource
 * tags, ECR repository policies), built over the ECS and ECR domains. A resource that cannot be
 * read (not found, not an ARN of ours) has no tags and no policy: the handler reports it.
 */
import { AwsError } from '../aws/errors.js';
import type { Clock } from '../core/clock.js';
import { rootCaller, type Caller } from '../iam/principal.js';
import { RegistryError } from '../registry/errors.js';
import type { TokenClaims } from '../registry/tokens.js';
import type { IdentityPolicies } from '../services/iam/identity-policies.js';
import { PolicyAuthorizer, type AuthorizationFacts } from '../iam/operation-authorizer.js';
import { parseRepositoryArn } from '../services/ecr/arns.js';
import type { EcrDomain } from '../services/ecr/index.js';
import { parseArn } from '../services/ecs/arns.js';
import type { EcsDomain } from '../services/ecs/index.js';
import type { IamDomain } from '../services/iam/index.js';
import type { SecretsManagerDomain } from '../services/secretsmanager/index.js';
import { findTaskDefinition } from '../services/ecs/task-definitions.js';
import * as c from '../store/collections.js';
import type { Store } from '../store/store.js';

/**
 * The registry's check: the ECR action a /v2/ request amounts to, for the principal whose
 * GetAuthorizationToken minted the token; a denial is the registry's DENIED (403) with IAM's
 * wording, which docker prints as `denied: User: … is not authorized to perform: …`.
 */
export function registryAuthorizer(authorizer: PolicyAuthorizer, callerOf: (principalArn: string) => Promise<Caller>) {
  return async (claims: TokenClaims, action: string, repositoryArn: string, sourceIp: string | undefined): Promise<void> => {
    const caller = await callerOf(claims.principalArn);
    try {
      await authorizer.authorize(caller, { action, resources: [repositoryArn], context: sourceIp ? { 'aws:SourceIp': sourceIp } : {} });
    } catch (e) {
      if (e instanceof AwsError) throw new RegistryError('DENIED', e.message);
      throw e;
    }
  };
}

/**
 * The Caller a registry token's principal ARN stands for, as it is now: a deleted user or role
 * keeps its ARN but has no policies (so it is denied everything). A role session's session
 * policy is not in the token: its role's policies apply.
 */
export function principalCallers(store: Store, iam: IamDomain) {
  return async (arn: string): Promise<Caller> => {
    const root = /^arn:aws:iam::(\d{12}):root$/.exec(arn);
    if (root) return rootCaller(root[1]!);
    const user = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (user) {
      const row = await store.read((tx) => iam.users.get(tx, user[1]!, user[2]!)).catch(() => undefined);
      const userId = row && row.data.arn === arn ? row.data.userId : '(deleted)';
      return { kind: 'user', accountId: user[1]!, arn, userId };
    }
    const session = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/(.+)$/.exec(arn);
    if (session) {
      const role = await store.read((tx) => iam.roles.get(tx, session[1]!, session[2]!)).catch(() => undefined);
      return { kind: 'assumed-role', accountId: session[1]!, arn, userId: `${role?.data.roleId ?? '(deleted)'}:${session[3]}`, roleArn: role?.data.arn ?? `arn:aws:iam::${session[1]}:role/${session[2]}` };
    }
    // Not an ARN IAM issues: a principal with no policies.
    return { kind: 'user', accountId: '', arn, userId: '(unknown)' };
  };
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\//;

interface Domains {
  store: Store;
  ecs: EcsDomain;
  ecr: EcrDomain;
  iam: IamDomain;
  /** Secrets Manager: secret ARNs, tags and resource policies (absent: none). */
  secretsManager?: SecretsManagerDomain;
}

const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:([^:]+):(\d{12}):secret:/;

export function createAuthorizer(deps: Domains & { identityPolicies: IdentityPolicies; clock: Clock }): PolicyAuthorizer {
  return new PolicyAuthorizer({ policies: deps.identityPolicies, facts: resourceFacts(deps), clock: deps.clock });
}

function resourceFacts({ store, ecs, ecr, iam, secretsManager }: Domains): AuthorizationFacts {
  const quietly = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };
  const secret = (arn: string) => {
    const m = SECRET_ARN.exec(arn);
    return m && secretsManager ? quietly(() => secretsManager.secrets.describe({ accountId: m[2]!, region: m[1]! }, arn)) : undefined;
  };
  return {
    secretArn: async (scope, id) => (secretsManager ? quietly(() => secretsManager.secrets.arnOf(scope, id)) : undefined),
    taskDefinition: async (scope, ref) => {
      const row = await store.read((tx) => findTaskDefinition(tx, scope, ref));
      return row && { arn: row.data.taskDefinitionArn, taskRoleArn: row.data.taskRoleArn, executionRoleArn: row.data.executionRoleArn };
    },
    principalTags: async (caller) => {
      let tags: { Key: string; Value: string }[] | undefined;
      if (caller.kind === 'user') {
        tags = (await store.read((tx) => tx.find(c.iamUsers, { where: { user_id: caller.userId }, limit: 1 })))[0]?.data.tags;
      } else if (caller.kind === 'assumed-role' && caller.roleArn) {
        tags = (await quietly(() => iam.roles.byArn(caller.accountId, caller.roleArn!)))?.tags;
      }
      return tags && Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    },
    resourceTags: async (arn) => {
      if (parseArn(arn)) {
        const tags = (await quietly(() => ecs.tags.list(arn)))?.tags;
        return tags && Object.fromEntries(tags.map((t) => [t.key ?? '', t.value ?? '']));
      }
      const repo = parseRepositoryArn(arn);
      if (repo) {
        const tags = (await quietly(() => ecr.repositories.require(repo, repo.name)))?.tags;
        return tags && Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
      }
      const role = ROLE_ARN.exec(arn);
      if (role) {
        const tags = (await quietly(() => iam.roles.byArn(role[1]!, arn)))?.tags;
        return tags && Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
      }
      const tags = (await secret(arn))?.Tags;
      return tags && Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    },
    resourcePolicy: async (arn, action) => {
      const repo = parseRepositoryArn(arn);
      if (repo) return (await quietly(() => ecr.repositories.require(repo, repo.name)))?.policyText;
      // A role's trust policy is its resource-based policy for assuming it.
      const role = ROLE_ARN.exec(arn);
      if (role && action.toLowerCase().startsWith('sts:assumerole')) return (await quietly(() => iam.roles.byArn(role[1]!, arn)))?.assumeRolePolicyDocument;
      if (SECRET_ARN.test(arn) && secretsManager) {
        const m = SECRET_ARN.exec(arn)!;
        return (await quietly(() => secretsManager.secrets.getPolicy({ accountId: m[2]!, region: m[1]! }, arn)))?.ResourcePolicy;
      }
      return undefined;
    },
  };
}
