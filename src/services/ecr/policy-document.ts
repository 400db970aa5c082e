/**
 * The minimal shape check ECR applies to a repository or registry policy before storing it:
 * JSON, a Statement list, and in each statement an Effect, an Action (or NotAction) and a
 * Principal (or NotPrincipal): resource policies name who they apply to.
 *
 * The full IAM policy grammar (src/iam/policy.ts on the `policy` branch) supersedes this
 * once that branch lands: SetRepositoryPolicy then validates through `parsePolicy(text, 'resource')`.
 */
import * as err from './errors.js';

export function checkPolicyDocument(policyText: string, message: string): void {
  let policy: unknown;
  try {
    policy = JSON.parse(policyText);
  } catch {
    throw err.invalidParameter(message);
  }
  if (!isObject(policy)) throw err.invalidParameter(message);
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  if (policy.Statement === undefined || statements.length === 0) throw err.invalidParameter(message);
  for (const s of statements) {
    if (!isObject(s)) throw err.invalidParameter(message);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw err.invalidParameter(message);
    if (s.Action === undefined && s.NotAction === undefined) throw err.invalidParameter(message);
    if (s.Principal === undefined && s.NotPrincipal === undefined) throw err.invalidParameter(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
