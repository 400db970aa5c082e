/**
 * What the policy engine (src/iam/policy.ts) evaluates for a Caller: the identity-based policies
 * in force and an assumed-role session's session policy. services/iam/identity-policies.ts reads
 * them from the store.
 */
export interface IdentityPolicy {
  /** 'managed': attached customer or AWS managed policy (has `arn`); 'inline': embedded in the user or role. */
  readonly kind: 'managed' | 'inline';
  readonly name: string;
  readonly arn?: string;
  /** The policy document's JSON text, as stored (already validated against the policy grammar). */
  readonly document: string;
}

export interface PoliciesInForce {
  /** The user's or role's policies: any explicit Deny wins, else an Allow in any of them allows. */
  readonly identity: readonly IdentityPolicy[];
  /** AssumeRole's session policy (JSON text): when present, an action must also be allowed by it. */
  readonly session?: string;
}
