import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitAcrossProviders, validateStrategy, type StrategyItemView } from './capacity-split.js';
import { SchedulerInputError } from './errors.js';
import { seededRandom } from './random.js';

const counts = (strategy: StrategyItemView[], n: number, running: Record<string, number> = {}) =>
  Object.fromEntries(splitAcrossProviders(strategy, n, running).map((s) => [s.capacityProvider, s.count]));

describe('capacity provider strategy split (ECS developer guide examples)', () => {
  it('two providers of weight 1 split the tasks evenly', () => {
    assert.deepEqual(counts([{ capacityProvider: 'A', weight: 1 }, { capacityProvider: 'B', weight: 1 }], 10), { A: 5, B: 5 });
  });

  it('weight 1 for A and 4 for B: for every task on A, four run on B', () => {
    const s = [{ capacityProvider: 'A', weight: 1 }, { capacityProvider: 'B', weight: 4 }];
    assert.deepEqual(counts(s, 5), { A: 1, B: 4 });
    assert.deepEqual(counts(s, 10), { A: 2, B: 8 });
  });

  it('base 2 on on-demand (weight 1) and spot weight 3: 2 on-demand first, the rest 1:3 (10 tasks → 4 and 6)', () => {
    const s = [{ capacityProvider: 'OD', base: 2, weight: 1 }, { capacityProvider: 'SPOT', weight: 3 }];
    assert.deepEqual(counts(s, 2), { OD: 2, SPOT: 0 });
    assert.deepEqual(counts(s, 10), { OD: 4, SPOT: 6 });
  });

  it('FARGATE base 1 weight 0 and FARGATE_SPOT weight 1: one on-demand task, every other on spot', () => {
    const s = [{ capacityProvider: 'FARGATE', base: 1, weight: 0 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }];
    assert.deepEqual(counts(s, 1), { FARGATE: 1, FARGATE_SPOT: 0 });
    assert.deepEqual(counts(s, 6), { FARGATE: 1, FARGATE_SPOT: 5 });
  });

  it('the base is satisfied before any weight, even on a provider listed last', () => {
    const s = [{ capacityProvider: 'A', weight: 5 }, { capacityProvider: 'B', base: 3, weight: 1 }];
    assert.deepEqual(counts(s, 3), { A: 0, B: 3 });
    assert.deepEqual(counts(s, 9), { A: 5, B: 4 });
  });

  it('a lone provider takes every task, even with weight 0', () => {
    assert.deepEqual(counts([{ capacityProvider: 'FARGATE_SPOT' }], 7), { FARGATE_SPOT: 7 });
  });

  it("counts what the group already runs: a service scaling out tops up the provider below its share", () => {
    const s = [{ capacityProvider: 'A', base: 2, weight: 1 }, { capacityProvider: 'B', weight: 1 }];
    // 2 (base) + 2 on A and 2 on B are running: 4 more → 2 and 2.
    assert.deepEqual(counts(s, 4, { A: 4, B: 2 }), { A: 2, B: 2 });
    // A lost its base tasks: they come back there first.
    assert.deepEqual(counts(s, 2, { A: 0, B: 4 }), { A: 2, B: 0 });
    // B was added to the strategy later: it catches up before A gets more.
    assert.deepEqual(counts([{ capacityProvider: 'A', weight: 1 }, { capacityProvider: 'B', weight: 1 }], 4, { A: 4 }), { A: 0, B: 4 });
  });

  it('splitting n then m tasks (with the first split running) places them as splitting n+m at once', () => {
    const rng = seededRandom('split-property');
    const random = () => rng.below(1_000_000) / 1_000_000;
    for (let round = 0; round < 300; round++) {
      const size = 1 + Math.floor(random() * 4);
      const baseAt = random() < 0.5 ? Math.floor(random() * size) : -1;
      const strategy: StrategyItemView[] = Array.from({ length: size }, (_, i) => ({
        capacityProvider: `P${i}`,
        weight: i === 0 ? 1 + Math.floor(random() * 5) : Math.floor(random() * 6),
        base: i === baseAt ? Math.floor(random() * 5) : undefined,
      }));
      const n = Math.floor(random() * 12);
      const m = Math.floor(random() * 12);
      const first = counts(strategy, n);
      const second = counts(strategy, m, first);
      const whole = counts(strategy, n + m);
      for (const item of strategy) assert.equal(first[item.capacityProvider]! + second[item.capacityProvider]!, whole[item.capacityProvider], JSON.stringify({ strategy, n, m }));
      assert.equal(Object.values(whole).reduce((a, b) => a + b, 0), n + m);
      // Beyond the base, every weighted provider is within one task of its exact share.
      const base = baseAt >= 0 ? Math.min(n + m, strategy[baseAt]!.base ?? 0) : 0;
      const weighted = strategy.filter((i) => (i.weight ?? 0) > 0 || size === 1);
      const total = weighted.reduce((a, i) => a + (size === 1 ? 1 : i.weight!), 0);
      for (const item of weighted) {
        const beyond = whole[item.capacityProvider]! - (strategy.indexOf(item) === baseAt ? base : 0);
        const exact = ((n + m - base) * (size === 1 ? 1 : item.weight!)) / total;
        assert.ok(Math.abs(beyond - exact) < 1, `${item.capacityProvider}: ${beyond} vs ${exact} in ${JSON.stringify({ strategy, n, m })}`);
      }
    }
  });
});

describe('capacity provider strategy validation', () => {
  const invalid = (strategy: StrategyItemView[], message: RegExp) => assert.throws(() => validateStrategy(strategy), (e: Error) => e instanceof SchedulerInputError && message.test(e.message));

  it('refuses what ECS refuses', () => {
    invalid([], /cannot be empty/);
    invalid([{ capacityProvider: 'A', base: 1, weight: 1 }, { capacityProvider: 'B', base: 1, weight: 1 }], /Only one capacity provider .* base/);
    invalid([{ capacityProvider: 'A' }, { capacityProvider: 'B', weight: 0 }], /weight greater than zero/);
    invalid([{ capacityProvider: 'A', weight: 1 }, { capacityProvider: 'A', weight: 2 }], /duplicate/);
    invalid([{ capacityProvider: 'A', weight: 1001 }], /between 0 and 1000/);
    invalid([{ capacityProvider: 'A', base: -1 }], /between 0 and 100000/);
    invalid(Array.from({ length: 21 }, (_, i) => ({ capacityProvider: `P${i}`, weight: 1 })), /maximum of 20/);
    assert.throws(() => splitAcrossProviders([{ capacityProvider: 'A', weight: 1 }], -1), SchedulerInputError);
  });

  it('accepts a lone provider without a weight, and a base on a provider of weight 0', () => {
    validateStrategy([{ capacityProvider: 'FARGATE' }]);
    validateStrategy([{ capacityProvider: 'FARGATE', base: 2 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
  });
});
