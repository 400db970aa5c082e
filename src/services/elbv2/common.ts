/** What the ELBv2 resources share: tags, Marker/PageSize listing, name rules, look-ups by ARN. */
import { paginate } from '../../core/pagination.js';
import type { ElbTag } from '../../store/collections.js';
import type { Collection, StoreTx } from '../../store/store.js';
import { ownArn, type ElbResourceType, type Scope } from './arns.js';
import { duplicateTagKeys, tooManyTags, validationError } from './errors.js';

const MAX_TAGS = 50;

/**
 * `current` with `added` merged in (a key given again replaces its value). A key repeated within
 * `added` is DuplicateTagKeys where the operation models it (AddTags, CreateLoadBalancer), a
 * ValidationError elsewhere (CreateListener, CreateRule, CreateTargetGroup).
 */
export function mergeTags(
  current: readonly ElbTag[],
  added: readonly { Key: string; Value?: string }[] | undefined,
  duplicateIs: 'DuplicateTagKeys' | 'ValidationError' = 'DuplicateTagKeys',
): ElbTag[] {
  if (!added || added.length === 0) return [...current];
  const keys = new Set<string>();
  for (const t of added) {
    if (keys.has(t.Key)) throw duplicateIs === 'DuplicateTagKeys' ? duplicateTagKeys(t.Key) : validationError(`Tag key '${t.Key}' is duplicated`);
    keys.add(t.Key);
    if (/^aws:/i.test(t.Key)) throw validationError(`Tag keys starting with 'aws:' are reserved: '${t.Key}'`);
  }
  const merged = [...current.filter((t) => !keys.has(t.Key)), ...added.map((t) => ({ Key: t.Key, ...(t.Value !== undefined ? { Value: t.Value } : {}) }))];
  if (merged.length > MAX_TAGS) throw tooManyTags();
  return merged;
}

/** ELBv2's Marker / PageSize (1..400, default 400) listing over an ordered list. */
export function elbPage<T>(items: readonly T[], keyOf: (item: T) => string, input: { Marker?: string; PageSize?: number }) {
  const size = input.PageSize ?? 400;
  if (size < 1 || size > 400) throw validationError('Page size must be between 1 and 400');
  const page = paginate(items, keyOf, size, input.Marker);
  return { items: page.items, NextMarker: page.nextToken };
}

/** Load balancer and target group names: 1..32 alphanumerics and hyphens, not starting or ending with a hyphen. */
export function checkName(name: string, what: 'load balancer' | 'target group'): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
    throw validationError(`The ${what} name '${name.slice(0, 64)}' must be 1 to 32 alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
  }
  if (what === 'load balancer' && /^internal-/i.test(name)) throw validationError(`Load balancer names cannot begin with 'internal-'`);
}

/** The row an ARN names in the caller's account and region, else the resource's NotFound error. */
export async function getOwn<T>(tx: StoreTx, collection: Collection<T>, arn: string, type: ElbResourceType, scope: Scope, notFound: () => Error): Promise<{ pk: string; version: number; data: T }> {
  const row = ownArn(arn, type, scope) ? await tx.get(collection, arn) : undefined;
  if (!row) throw notFound();
  return row;
}

export const accountRegion = (s: Scope) => `${s.accountId}:${s.region}`;
