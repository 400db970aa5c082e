/**
 * ECR lifecycle policies: validation of the policy JSON as ECR does it, and a PURE evaluation
 * (policy, images, now) → images to expire with the rule that expires each.
 *
 * Semantics (ECR's documentation): rules run in rulePriority order, lowest first. An image
 * that matches a rule's selection is claimed by that rule, and no later rule may expire it,
 * whether the claiming rule expires it or keeps it. `tagged` selects images having, for every
 * entry of tagPrefixList / tagPatternList, some tag that matches it; `untagged` selects images
 * with no tags; `any` selects every image and must have the highest rulePriority.
 * imageCountMoreThan keeps the N most recently pushed of the rule's images; sinceImagePushed
 * expires those pushed more than N days ago.
 */
import * as err from './errors.js';

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPrefixList?: string[];
    tagPatternList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed';
    countUnit?: 'days';
    countNumber: number;
  };
  action: { type: 'expire' };
}

export interface LifecycleImage {
  digest: string;
  tags: string[];
  /** Epoch seconds. */
  pushedAt: number;
}

export interface Expiry {
  image: LifecycleImage;
  rulePriority: number;
}

const fail = (why: string) =>
  err.invalidParameter(`Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${why}'`);

/** Parses and validates a lifecycle policy; the rules come back sorted by priority. */
export function parseLifecyclePolicy(text: string): LifecycleRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail('the policy is not valid JSON');
  }
  const rules = (doc as { rules?: unknown })?.rules;
  if (!Array.isArray(rules) || rules.length === 0) throw fail('object has missing required properties (["rules"])');
  const priorities = new Set<number>();
  const out: LifecycleRule[] = [];
  for (const raw of rules as Record<string, unknown>[]) {
    if (!raw || typeof raw !== 'object') throw fail('a rule must be an object');
    const p = raw.rulePriority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1) throw fail('rulePriority must be an integer greater than or equal to 1');
    if (priorities.has(p)) throw fail(`rulePriority ${p} is used more than once`);
    priorities.add(p);
    const s = raw.selection as Record<string, unknown> | undefined;
    if (!s || typeof s !== 'object') throw fail('object has missing required properties (["selection"])');
    const status = s.tagStatus;
    if (status !== 'tagged' && status !== 'untagged' && status !== 'any') throw fail(`tagStatus must be one of tagged, untagged, any`);
    const prefixes = s.tagPrefixList;
    const patterns = s.tagPatternList;
    if (status === 'tagged') {
      if (prefixes === undefined && patterns === undefined) throw fail('tagPrefixList or tagPatternList is required when tagStatus is tagged');
      if (prefixes !== undefined && patterns !== undefined) throw fail('tagPrefixList and tagPatternList cannot both be specified');
    } else if (prefixes !== undefined || patterns !== undefined) {
      throw fail(`tagPrefixList and tagPatternList can only be used when tagStatus is tagged`);
    }
    for (const list of [prefixes, patterns]) {
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) {
        throw fail('tag lists must be non-empty lists of non-empty strings');
      }
    }
    if (Array.isArray(patterns) && patterns.some((x: string) => (x.match(/\*/g)?.length ?? 0) > 4)) throw fail('a tag pattern may contain at most 4 wildcards');
    const countType = s.countType;
    if (countType !== 'imageCountMoreThan' && countType !== 'sinceImagePushed') throw fail('countType must be imageCountMoreThan or sinceImagePushed');
    if (countType === 'sinceImagePushed' && s.countUnit !== 'days') throw fail('countUnit days is required when countType is sinceImagePushed');
    if (countType === 'imageCountMoreThan' && s.countUnit !== undefined) throw fail('countUnit is not allowed when countType is imageCountMoreThan');
    const n = s.countNumber;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw fail('countNumber must be an integer greater than or equal to 1');
    const action = raw.action as { type?: unknown } | undefined;
    if (!action || action.type !== 'expire') throw fail('action type must be expire');
    out.push(raw as unknown as LifecycleRule);
  }
  out.sort((a, b) => a.rulePriority - b.rulePriority);
  const anyRule = out.findIndex((r) => r.selection.tagStatus === 'any');
  if (anyRule >= 0 && anyRule !== out.length - 1) throw fail(`the rule with tagStatus any must have the highest rulePriority`);
  return out;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function selects(rule: LifecycleRule, image: LifecycleImage): boolean {
  const s = rule.selection;
  if (s.tagStatus === 'any') return true;
  if (s.tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  if (s.tagPrefixList) return s.tagPrefixList.every((p) => image.tags.some((t) => t.startsWith(p)));
  return s.tagPatternList!.map(wildcard).every((re) => image.tags.some((t) => re.test(t)));
}

/** The images `rules` expire at `now` (epoch seconds), in rule order. */
export function evaluateLifecyclePolicy(rules: readonly LifecycleRule[], images: readonly LifecycleImage[], now: number): Expiry[] {
  const claimed = new Set<string>();
  const out: Expiry[] = [];
  for (const rule of [...rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
    const mine = images.filter((img) => !claimed.has(img.digest) && selects(rule, img));
    for (const img of mine) claimed.add(img.digest);
    // Newest first; ties broken by digest so the outcome is deterministic.
    mine.sort((a, b) => b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : 1));
    const s = rule.selection;
    const expired =
      s.countType === 'imageCountMoreThan' ? mine.slice(s.countNumber) : mine.filter((img) => now - img.pushedAt > s.countNumber * 86400);
    for (const image of expired) out.push({ image, rulePriority: rule.rulePriority });
  }
  return out;
}
