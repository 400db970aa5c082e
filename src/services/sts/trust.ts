/**
 * Whether a role's trust policy lets a principal assume it, evaluated by the policy engine
 * (src/iam/policy.ts): explicit Deny wins; an Allow matches on Action, Principal (`*`, the
 * account id or its root ARN, the caller's ARN or its role's ARN, a service principal) and
 * Condition (sts:ExternalId and any other key the request carries). A document that no longer
 * parses trusts no one.
 */
import { parsePolicy, PolicyError, trustAllows, type RequestPrincipal } from '../../iam/policy.js';

export interface TrustRequest {
  action: string;
  /** AWS principals the caller is (its ARN, its role's ARN, its account). */
  aws?: { accountId: string; arns: readonly string[] };
  /** A service principal (ecs-tasks.amazonaws.com). */
  service?: string;
  externalId?: string;
}

export function trustPolicyAllows(document: string, req: TrustRequest): boolean {
  let policy;
  try {
    policy = parsePolicy(document, 'trust');
  } catch (e) {
    if (e instanceof PolicyError) return false;
    throw e;
  }
  const principal: RequestPrincipal | undefined = req.service
    ? { type: 'Service', id: req.service }
    : req.aws && { type: 'AWS', id: req.aws.arns[0] ?? '', roleArn: req.aws.arns[1], accountId: req.aws.accountId };
  if (!principal) return false;
  return trustAllows(policy, { action: req.action, principal, context: req.externalId === undefined ? {} : { 'sts:ExternalId': req.externalId } });
}
