/**
 * The identity-based policies in force for a Caller, for the policy engine (src/iam/policy.ts):
 * an IAM user's (and its groups') or a role's attached managed policies (customer managed: the default version;
 * AWS managed: the built-in document) and inline policies, plus an assumed-role session's
 * session policy. Root, internal and trusted callers have none (they are not evaluated).
 */
import type { IdentityPolicy, PoliciesInForce } from '../../iam/identity-policies.js';
import type { Caller } from '../../iam/principal.js';
import * as c from '../../store/collections.js';
import type { Store, StoreTx } from '../../store/store.js';
import { AWS_MANAGED_POLICIES } from './aws-managed.js';

const NONE: PoliciesInForce = { identity: [] };

export class IdentityPolicies {
  constructor(private readonly store: Store) {}

  async forCaller(caller: Caller): Promise<PoliciesInForce> {
    return this.store.read(async (tx) => {
      if (caller.kind === 'user') {
        const [user] = await tx.find(c.iamUsers, { where: { user_id: caller.userId }, limit: 1 });
        if (!user) return NONE;
        const identity = await policiesOf(tx, user.data.userId, user.data.inlinePolicies);
        // The user's groups' policies are the user's too.
        for (const { data: m } of await tx.find(c.iamGroupMembers, { where: { user_id: user.data.userId } })) {
          const [group] = await tx.find(c.iamGroups, { where: { group_id: m.groupId }, limit: 1 });
          if (group) identity.push(...(await policiesOf(tx, group.data.groupId, group.data.inlinePolicies)));
        }
        return { identity };
      }
      if (caller.kind === 'assumed-role' && caller.roleArn) {
        const roleId = caller.userId.split(':')[0]!;
        const [role] = await tx.find(c.iamRoles, { where: { role_id: roleId }, limit: 1 });
        // A deleted (or deleted and re-created) role grants its old sessions nothing.
        if (!role || role.data.arn !== caller.roleArn) return NONE;
        const session = caller.accessKeyId ? (await tx.get(c.stsSessions, caller.accessKeyId))?.data.sessionPolicy : undefined;
        return { identity: await policiesOf(tx, role.data.roleId, role.data.inlinePolicies), session };
      }
      return NONE;
    });
  }
}

/** The managed policies attached to `principalId` (a user, group or role id) and its inline ones. */
async function policiesOf(tx: StoreTx, principalId: string, inline: Record<string, string>): Promise<IdentityPolicy[]> {
  const out: IdentityPolicy[] = Object.entries(inline).map(([name, document]) => ({ kind: 'inline', name, document }));
  for (const { data: a } of await tx.find(c.iamAttachments, { where: { principal: principalId } })) {
    const document = await managedPolicyDocument(tx, a.policyArn);
    if (document !== undefined) out.push({ kind: 'managed', name: a.policyName, arn: a.policyArn, document });
  }
  return out;
}

/** The default version's document of a customer or AWS managed policy. */
export async function managedPolicyDocument(tx: StoreTx, arn: string): Promise<string | undefined> {
  const aws = AWS_MANAGED_POLICIES.get(arn);
  if (aws) return aws.document;
  const policy = (await tx.get(c.iamPolicies, arn))?.data;
  return policy?.versions.find((v) => v.versionId === policy.defaultVersionId)?.document;
}
