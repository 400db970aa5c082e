/**
 * ECR's check of a repository or registry policy before storing it: the policy must be one IAM
 * accepts as a resource policy (src/iam/policy.ts), since Dockyard enforces it on the API and on
 * push/pull. ECR answers any problem with one InvalidParameterException message.
 */
import { parsePolicy, PolicyError } from '../../iam/policy.js';
import * as err from './errors.js';

export function checkPolicyDocument(policyText: string, message: string): void {
  try {
    parsePolicy(policyText, 'resource');
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    throw err.invalidParameter(message);
  }
}
