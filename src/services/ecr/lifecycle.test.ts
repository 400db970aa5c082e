/** The pure lifecycle evaluation and ECR's policy validation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsError } from '../../aws/errors.js';
import { evaluateLifecyclePolicy, parseLifecyclePolicy, type LifecycleImage } from './lifecycle.js';

const DAY = 86400;
const NOW = 1_800_000_000;
const img = (digest: string, tags: string[], ageDays: number): LifecycleImage => ({ digest, tags, pushedAt: NOW - ageDays * DAY });
const rule = (rulePriority: number, selection: Record<string, unknown>) => ({ rulePriority, selection, action: { type: 'expire' } });
const policy = (...rules: unknown[]) => parseLifecyclePolicy(JSON.stringify({ rules }));
const expired = (rules: ReturnType<typeof policy>, images: LifecycleImage[]) =>
  evaluateLifecyclePolicy(rules, images, NOW).map((x) => `${x.image.digest}@${x.rulePriority}`);

test('imageCountMoreThan keeps the newest N of the selection', () => {
  const images = [img('a', ['v1'], 5), img('b', ['v2'], 4), img('c', ['v3'], 3), img('d', [], 2)];
  assert.deepEqual(expired(policy(rule(1, { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 2 })), images), ['a@1']);
});

test('sinceImagePushed expires images older than N days', () => {
  const images = [img('old', [], 10), img('new', [], 1)];
  const rules = policy(rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }));
  assert.deepEqual(expired(rules, images), ['old@1']);
});

test('an image claimed by a higher-priority rule is never expired by a later one', () => {
  const images = [img('prod-old', ['prod-1'], 30), img('prod-new', ['prod-2'], 1), img('dev', ['dev-1'], 30)];
  const rules = policy(
    rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 5 }),
    rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
  );
  // Rule 1 keeps both prod images; rule 2 would expire prod-old by age but may not.
  assert.deepEqual(expired(rules, images), ['dev@2']);
});

test('tagPatternList needs every pattern matched by some tag; wildcards', () => {
  const images = [img('both', ['prod-web', 'v1'], 10), img('one', ['prod-db'], 10), img('none', ['x'], 10)];
  const rules = policy(rule(1, { tagStatus: 'tagged', tagPatternList: ['prod-*', 'v*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }));
  assert.deepEqual(expired(rules, images), ['both@1']);
});

test('rules apply in rulePriority order whatever the JSON order', () => {
  const images = [img('a', [], 3), img('b', [], 2), img('c', [], 1)];
  const rules = policy(
    rule(5, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
    rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2 }),
  );
  assert.deepEqual(rules.map((r) => r.rulePriority), [2, 5]);
  assert.deepEqual(expired(rules, images), ['a@2']);
});

test('validation failures are InvalidParameterException', () => {
  const bad = [
    { rules: [rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 })] },
    { rules: [rule(1, { tagStatus: 'untagged', tagPrefixList: ['a'], countType: 'imageCountMoreThan', countNumber: 1 })] },
    { rules: [rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], tagPatternList: ['b'], countType: 'imageCountMoreThan', countNumber: 1 })] },
    { rules: [rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 1 })] },
    { rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 0 })] },
    { rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }), rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })] },
    { rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'delete' } }] },
    { rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['*a*b*c*d*e*'], countType: 'imageCountMoreThan', countNumber: 1 })] },
  ];
  for (const doc of bad) {
    assert.throws(() => parseLifecyclePolicy(JSON.stringify(doc)), (e: unknown) => e instanceof AwsError && e.code === 'InvalidParameterException', JSON.stringify(doc));
  }
});
