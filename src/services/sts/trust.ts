/**
 * Whether a role's trust policy lets a principal assume it, with the policy engine: the trust
 * policy naming the caller (its ARN, its role, `*`) allows it; naming the caller's account
 * delegates to the account, whose identity policies the operation authorizer has already asked
 * about sts:AssumeRole before the handler runs. An explicit Deny for the caller always wins.
 */
import { evaluate, parsePolicy, PolicyError, type RequestPrincipal } from '../../iam/policy.js';
import type { Caller } from '../../iam/principal.js';

export interface TrustRequest {
  roleArn: string;
  /** The IAM caller, or a service principal (ecs-tasks.amazonaws.com). */
  principal: { caller: Caller } | { service: string };
  externalId?: string;
}

export function trustPolicyAllows(document: string, req: TrustRequest): boolean {
  let trust;
  try {
    trust = parsePolicy(document, 'trust');
  } catch (e) {
    if (e instanceof PolicyError) return false;
    throw e;
  }
  const context = req.externalId === undefined ? {} : { 'sts:ExternalId': req.externalId };
  const evaluateFor = (principal: RequestPrincipal) => evaluate({ action: 'sts:AssumeRole', resource: req.roleArn, principal, context }, { resource: [trust] }).decision;
  if ('service' in req.principal) return evaluateFor({ type: 'Service', id: req.principal.service }) === 'Allow';
  const { caller } = req.principal;
  const isRoot = caller.kind === 'root' || caller.kind === 'trusted' || caller.kind === 'internal';
  const asCaller = evaluateFor({ type: 'AWS', id: caller.arn, accountId: caller.accountId, roleArn: caller.roleArn, isRoot });
  if (asCaller !== 'ImplicitDeny') return asCaller === 'Allow';
  return evaluateFor({ type: 'AWS', id: `arn:aws:iam::${caller.accountId}:root`, accountId: caller.accountId, isRoot: true }) === 'Allow';
}
