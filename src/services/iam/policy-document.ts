/**
 * Policy documents as IAM stores them: checked against the policy grammar when stored (the
 * policy engine's parser, src/iam/policy.ts; a bad document is MalformedPolicyDocument in IAM's
 * wording), answered URL-encoded, and sized as IAM counts them.
 */
import { parsePolicy, PolicyError, type PolicyKind } from '../../iam/policy.js';
import { malformedPolicy } from './errors.js';

/** Throws MalformedPolicyDocument when `text` is not a valid policy of `kind`. */
export function checkPolicyDocument(text: string, kind: Exclude<PolicyKind, 'resource'>): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformedPolicy('This policy contains invalid Json');
  }
  try {
    parsePolicy(doc, kind);
  } catch (e) {
    if (e instanceof PolicyError) throw malformedPolicy(e.message);
    throw e;
  }
}

/** IAM answers policy documents URL-encoded (RFC 3986); the AWS CLI and boto3 decode them. */
export const encodePolicyDocument = (text: string) => encodeURIComponent(text);

/** A document's size as IAM counts it (whitespace excluded). */
export const policySize = (text: string) => text.replace(/\s/g, '').length;
