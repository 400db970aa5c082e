/**
 * How many of N new tasks go to each capacity provider of a strategy, as ECS splits them:
 *
 *   1. base first: the one provider with a base gets tasks until the group has `base` tasks on
 *      it (tasks the group already runs there count);
 *   2. then weights: each further task goes to the provider whose count of the group's tasks
 *      beyond the base is furthest below its weight's share of the total once that task is
 *      counted (ties to the earlier provider in the strategy). Exact multiples split exactly
 *      (weights 1:4 over 10 tasks → 2 and 8) and every provider stays within one task of its
 *      exact share. A provider of weight 0 gets no task beyond its base.
 *
 * `running` is what the task group already runs per provider (a service's tasks; empty for
 * RunTask, whose base applies to each call). Pure: the caller validates names and association
 * (validateStrategy checks the shape rules ECS enforces on every strategy).
 */
import { SchedulerInputError } from './errors.js';

export interface StrategyItemView {
  capacityProvider: string;
  base?: number;
  weight?: number;
}

export interface ProviderShare {
  capacityProvider: string;
  count: number;
}

/** ECS's limits on a strategy (CapacityProviderStrategyItemBase / Weight, and at most 20 providers). */
export const MAX_STRATEGY_ITEMS = 20;
export const MAX_BASE = 100_000;
export const MAX_WEIGHT = 1_000;

/** The rules ECS checks on any strategy, whatever names it holds; throws SchedulerInputError. */
export function validateStrategy(strategy: readonly StrategyItemView[]): void {
  if (strategy.length === 0) throw new SchedulerInputError('The capacity provider strategy cannot be empty.');
  if (strategy.length > MAX_STRATEGY_ITEMS) {
    throw new SchedulerInputError(`A capacity provider strategy can contain a maximum of ${MAX_STRATEGY_ITEMS} capacity providers.`);
  }
  const seen = new Set<string>();
  let bases = 0;
  for (const item of strategy) {
    if (!item.capacityProvider) throw new SchedulerInputError('The capacity provider name in a capacity provider strategy cannot be empty.');
    if (seen.has(item.capacityProvider)) {
      throw new SchedulerInputError(`The capacity provider strategy cannot contain duplicate capacity providers: ${item.capacityProvider}.`);
    }
    seen.add(item.capacityProvider);
    const base = item.base ?? 0;
    const weight = item.weight ?? 0;
    if (!Number.isInteger(base) || base < 0 || base > MAX_BASE) throw new SchedulerInputError(`The base of a capacity provider must be between 0 and ${MAX_BASE}.`);
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) throw new SchedulerInputError(`The weight of a capacity provider must be between 0 and ${MAX_WEIGHT}.`);
    if (base > 0) bases += 1;
  }
  if (bases > 1) throw new SchedulerInputError('Only one capacity provider in a capacity provider strategy can have a base defined.');
  if (strategy.length > 1 && strategy.every((i) => (i.weight ?? 0) === 0)) {
    throw new SchedulerInputError('At least one capacity provider in a capacity provider strategy must have a weight greater than zero.');
  }
}

/** The split of `count` new tasks, one entry per strategy item in strategy order (counts may be 0). */
export function splitAcrossProviders(
  strategy: readonly StrategyItemView[],
  count: number,
  running: Readonly<Record<string, number>> = {},
): ProviderShare[] {
  validateStrategy(strategy);
  if (!Number.isInteger(count) || count < 0) throw new SchedulerInputError(`Invalid count: ${count}. It must be a whole number of tasks.`);
  const shares = strategy.map((item) => ({ capacityProvider: item.capacityProvider, count: 0 }));
  let left = count;

  // 1. The base, net of what the group already runs on that provider.
  const baseAt = strategy.findIndex((i) => (i.base ?? 0) > 0);
  if (baseAt >= 0) {
    const have = running[strategy[baseAt]!.capacityProvider] ?? 0;
    const give = Math.min(left, Math.max(0, strategy[baseAt]!.base! - have));
    shares[baseAt]!.count += give;
    left -= give;
  }
  if (left === 0) return shares;

  // 2. The weights. A lone provider takes everything whatever its weight (ECS accepts weight 0 there).
  const weights = strategy.length === 1 ? [1] : strategy.map((i) => i.weight ?? 0);
  // Tasks each provider holds beyond the base, existing ones included: the weights apply to these.
  const held = strategy.map((item, i) => {
    const total = (running[item.capacityProvider] ?? 0) + shares[i]!.count;
    return Math.max(0, total - (i === baseAt ? item.base! : 0));
  });
  const totalWeight = weights.reduce((a, w) => a + w, 0);
  let heldTotal = held.reduce((a, h, i) => a + (weights[i]! > 0 ? h : 0), 0);
  for (; left > 0; left--) {
    // The provider furthest below its share once this task is counted: (T+1)·w/W − held, scaled by W.
    let best = -1;
    let bestDeficit = 0;
    for (let i = 0; i < strategy.length; i++) {
      if (weights[i]! === 0) continue;
      const deficit = (heldTotal + 1) * weights[i]! - totalWeight * held[i]!;
      if (best < 0 || deficit > bestDeficit) {
        best = i;
        bestDeficit = deficit;
      }
    }
    held[best] = held[best]! + 1;
    heldTotal += 1;
    shares[best]!.count += 1;
  }
  return shares;
}
