/**
 * Whether a role's trust policy lets a principal assume it. A minimal evaluation until the
 * policy engine (src/iam/policy.ts) is merged: explicit Deny wins; an Allow matches on
 * Action (sts:AssumeRole, sts:*, *, with wildcards) and Principal (`*`, the account id or its
 * root ARN, the caller's ARN, or a service principal). A statement with a Condition this check
 * cannot evaluate fails closed: an Allow with one does not allow, a Deny with one denies.
 */
export interface TrustRequest {
  action: string;
  /** AWS principals the caller is (its ARN, its role's ARN, its account). */
  aws?: { accountId: string; arns: readonly string[] };
  /** A service principal (ecs-tasks.amazonaws.com). */
  service?: string;
  externalId?: string;
}

type Statement = { Effect?: string; Action?: unknown; NotAction?: unknown; Principal?: unknown; NotPrincipal?: unknown; Condition?: unknown };

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const wildcard = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(value);

function actionMatches(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => wildcard(a, action));
  return list(s.Action).some((a) => wildcard(a, action));
}

function principalMatches(s: Statement, req: TrustRequest): boolean {
  if (s.NotPrincipal !== undefined) return false; // not supported here: never grants
  const p = s.Principal;
  if (p === '*') return true;
  if (typeof p !== 'object' || p === null) return false;
  const { AWS, Service } = p as Record<string, unknown>;
  if (req.service && list(Service).includes(req.service)) return true;
  if (req.aws) {
    const { accountId, arns } = req.aws;
    for (const entry of list(AWS)) {
      if (entry === '*' || entry === accountId || entry === `arn:aws:iam::${accountId}:root` || arns.includes(entry)) return true;
    }
  }
  return false;
}

/** The conditions this check understands: sts:ExternalId with StringEquals. */
function conditionHolds(s: Statement, req: TrustRequest): boolean | undefined {
  if (s.Condition === undefined) return true;
  const blocks = s.Condition as Record<string, Record<string, unknown>>;
  for (const [operator, block] of Object.entries(blocks)) {
    for (const [key, value] of Object.entries(block)) {
      if (operator !== 'StringEquals' || key.toLowerCase() !== 'sts:externalid') return undefined;
      if (req.externalId === undefined || !list(value).includes(req.externalId)) return false;
    }
  }
  return true;
}

export function trustPolicyAllows(document: string, req: TrustRequest): boolean {
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(document);
  } catch {
    return false;
  }
  const statements = (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]).filter((s): s is Statement => typeof s === 'object' && s !== null);
  let allowed = false;
  for (const s of statements) {
    if (!actionMatches(s, req.action) || !principalMatches(s, req)) continue;
    const holds = conditionHolds(s, req);
    if (s.Effect === 'Deny' && holds !== false) return false;
    if (s.Effect === 'Allow' && holds === true) allowed = true;
  }
  return allowed;
}
