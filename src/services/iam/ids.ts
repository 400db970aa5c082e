/** IAM identifiers as AWS shapes them: unique ids by prefix, access keys, ARNs, names and paths. */
import { randomBytes } from 'node:crypto';
import { validationError } from './errors.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE32[b % 32];
  return out;
}

/** AIDA… (user), AROA… (role), ANPA… (managed policy), AGPA… (group): 21 characters. */
export const uniqueId = (prefix: 'AIDA' | 'AROA' | 'ANPA' | 'AGPA') => prefix + randomBase32(17);
/** AKIA… (long-term) or ASIA… (temporary) access key ids: 20 characters. */
export const accessKeyId = (prefix: 'AKIA' | 'ASIA') => prefix + randomBase32(16);
/** 40-character secret access key, as AWS's. */
export const secretAccessKey = () => randomBytes(30).toString('base64');

export const userArn = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:user${path}${name}`;
export const roleArn = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:role${path}${name}`;
export const policyArn = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:policy${path}${name}`;

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;

/** IAM's member names in messages start lower case (userName, policyName, path). */
const field = (member: string) => member[0]!.toLowerCase() + member.slice(1);

export function checkName(value: string, member: string, max = 64): void {
  if (!NAME.test(value)) {
    throw validationError(`1 validation error detected: Value '${value}' at '${field(member)}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  }
  if (value.length > max) {
    throw validationError(`1 validation error detected: Value '${value}' at '${field(member)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }
}

export function checkPath(value: string | undefined, member = 'Path'): string {
  if (value === undefined) return '/';
  if (!PATH.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field(member)}' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`,
    );
  }
  return value;
}

/** Epoch seconds without the fraction: IAM's dates have whole seconds. */
export const wholeSeconds = (epochSeconds: number) => Math.floor(epochSeconds);
