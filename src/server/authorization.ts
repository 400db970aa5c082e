/**
 * The authorizer's view of Dockyard's resources (task definitions and their roles, resource
 * tags, ECR repository policies), built over the ECS and ECR domains. A resource that cannot be
 * read (not found, not an ARN of ours) has no tags and no policy: the handler reports it.
 */
import { AwsError } from '../aws/errors.js';
import type { Clock } from '../core/clock.js';
import type { Caller } from '../iam/principal.js';
import { RegistryError } from '../registry/errors.js';
import type { TokenClaims } from '../registry/tokens.js';
import { IdentityPolicies } from '../iam/identity-policies.js';
import { PolicyAuthorizer, type AuthorizationFacts } from '../iam/operation-authorizer.js';
import { parseRepositoryArn } from '../services/ecr/arns.js';
import type { EcrDomain } from '../services/ecr/index.js';
import type { IamDomain } from '../services/iam/index.js';
import { parseArn } from '../services/ecs/arns.js';
import type { EcsDomain } from '../services/ecs/index.js';
import { findTaskDefinition } from '../services/ecs/task-definitions.js';
import type { Store } from '../store/store.js';

/**
 * The registry's check: the ECR action a /v2/ request amounts to, for the principal whose
 * GetAuthorizationToken minted the token; a denial is the registry's DENIED (403) with IAM's
 * wording, which docker prints as `denied: User: … is not authorized to perform: …`.
 */
export function registryAuthorizer(authorizer: PolicyAuthorizer, callerOf: (claims: TokenClaims) => Caller | undefined) {
  return async (claims: TokenClaims, action: string, repositoryArn: string, sourceIp: string | undefined): Promise<void> => {
    const caller = callerOf(claims);
    if (!caller) return;
    try {
      await authorizer.authorize(caller, { action, resources: [repositoryArn], context: sourceIp ? { 'aws:SourceIp': sourceIp } : {} });
    } catch (e) {
      if (e instanceof AwsError) throw new RegistryError('DENIED', e.message);
      throw e;
    }
  };
}

export function createAuthorizer(deps: { store: Store; clock: Clock; ecs: EcsDomain; ecr: EcrDomain; iam: IamDomain }): PolicyAuthorizer {
  return new PolicyAuthorizer({ policies: new IdentityPolicies(deps.store), facts: resourceFacts(deps), clock: deps.clock });
}

function resourceFacts({ store, ecs, ecr, iam }: { store: Store; ecs: EcsDomain; ecr: EcrDomain; iam: IamDomain }): AuthorizationFacts {
  const quietly = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };
  return {
    taskDefinition: async (scope, ref) => {
      const row = await store.read((tx) => findTaskDefinition(tx, scope, ref));
      return row && { arn: row.data.taskDefinitionArn, taskRoleArn: row.data.taskRoleArn, executionRoleArn: row.data.executionRoleArn };
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
      return undefined;
    },
    resourcePolicy: async (arn) => {
      // A role's trust policy is its resource-based policy: naming a principal there lets it assume the role.
      const role = arn.startsWith('arn:aws:iam::') ? await iam.roles.byArn(arn.split(':')[4]!, arn) : undefined;
      if (role) return role.assumeRolePolicyDocument;
      const repo = parseRepositoryArn(arn);
      return repo ? (await quietly(() => ecr.repositories.require(repo, repo.name)))?.policyText : undefined;
    },
  };
}
