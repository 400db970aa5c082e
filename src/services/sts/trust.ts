/**
 * Whether a role's stored trust policy lets a caller (AssumeRole) or a service principal
 * (task-role vending) assume it: the policy engine's trustAllows, with a policy that no longer
 * parses refusing everyone.
 */
import { parsePolicy, PolicyError, principalOf, trustAllows, type Policy } from '../../iam/policy.js';
import type { Caller } from '../../iam/principal.js';

export interface TrustRequest {
  roleArn: string;
  /** The IAM caller, or a service principal (ecs-tasks.amazonaws.com). */
  principal: { caller: Caller } | { service: string };
  externalId?: string;
}

export function trustPolicyAllows(document: string, req: TrustRequest): boolean {
  let trust: Policy;
  try {
    trust = parsePolicy(document, 'trust');
  } catch (e) {
    if (e instanceof PolicyError) return false;
    throw e;
  }
  const principal = 'service' in req.principal ? { type: 'Service' as const, id: req.principal.service } : principalOf(req.principal.caller);
  const context = req.externalId === undefined ? {} : { 'sts:ExternalId': req.externalId };
  return trustAllows(trust, { action: 'sts:AssumeRole', resource: req.roleArn, principal, context });
}
