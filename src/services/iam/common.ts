/** What IAM's users, roles and groups share: Marker/MaxItems listing and the rules for tags and inline policies (entities.ts applies them). */
import { paginate } from '../../core/pagination.js';
import type { Tag } from './types.js';
import { invalidInput, limitExceeded, noSuchEntity } from './errors.js';
import { checkName } from './ids.js';
import { checkPolicyDocument, encodePolicyDocument, policySize } from './policy-document.js';

/** IAM's Marker / MaxItems (default 100) / IsTruncated listing over an ordered list. */
export function iamPage<T>(items: readonly T[], keyOf: (item: T) => string, input: { Marker?: string; MaxItems?: number }) {
  const page = paginate(items, keyOf, input.MaxItems ?? 100, input.Marker);
  return { items: page.items, IsTruncated: page.nextToken !== undefined, Marker: page.nextToken };
}

const MAX_TAGS = 50;

/** `current` with `added` merged in (tag keys are case-insensitive), within IAM's 50-tag limit. */
export function mergeTags(current: readonly Tag[], added: readonly Tag[] | undefined): Tag[] {
  if (!added) return [...current];
  const keys = new Set<string>();
  for (const t of added) {
    if (keys.has(t.Key.toLowerCase())) throw invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    keys.add(t.Key.toLowerCase());
  }
  const merged = [...current.filter((t) => !keys.has(t.Key.toLowerCase())), ...added.map((t) => ({ Key: t.Key, Value: t.Value }))];
  if (merged.length > MAX_TAGS) throw limitExceeded(`The number of tags has reached the maximum limit.`);
  return merged;
}

export function removeTags(current: readonly Tag[], keys: readonly string[]): Tag[] {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return current.filter((t) => !drop.has(t.Key.toLowerCase()));
}

/** Inline policies: name → document, with the principal's total size limit (user 2048, group 5120, role 10240). */
const INLINE_LIMIT = { user: 2048, group: 5120, role: 10240 } as const;
type Owner = { kind: 'user' | 'role' | 'group'; name: string };

export function putInlinePolicy(
  policies: Record<string, string>,
  name: string,
  document: string,
  owner: Owner,
): Record<string, string> {
  checkName(name, 'PolicyName', 128);
  checkPolicyDocument(document, 'identity');
  // Names are case-insensitive: a put with another case replaces the existing policy.
  const existing = Object.keys(policies).find((n) => n.toLowerCase() === name.toLowerCase());
  const next = { ...policies };
  if (existing !== undefined) delete next[existing];
  next[name] = document;
  const limit = INLINE_LIMIT[owner.kind];
  const total = Object.values(next).reduce((sum, d) => sum + policySize(d), 0);
  if (total > limit) throw limitExceeded(`Maximum policy size of ${limit} bytes exceeded for ${owner.kind} ${owner.name}`);
  return next;
}

export function inlinePolicyName(policies: Record<string, string>, name: string, owner: Owner): string {
  const found = Object.keys(policies).find((n) => n.toLowerCase() === name.toLowerCase());
  if (found === undefined) throw noSuchEntity(`The ${owner.kind} policy with name ${name} cannot be found.`);
  return found;
}

export function getInlinePolicy(policies: Record<string, string>, name: string, owner: Owner) {
  const found = inlinePolicyName(policies, name, owner);
  return { PolicyName: found, PolicyDocument: encodePolicyDocument(policies[found]!) };
}
