/**
 * Placement strategies as rankers. A ranker scores a feasible instance (lower is better);
 * strategies apply in the order given, the first one being the primary key and later ones
 * breaking its ties, as ECS evaluates them. `random` picks uniformly among the instances that
 * are tied under the strategies before it, so strategies after a `random` never matter.
 *
 * Spread reading (ECS guide: "Service tasks are spread based on the tasks from that service.
 * Standalone tasks are spread based on the tasks from the same task group"): a service's
 * group is `service:<name>` and a standalone task's defaults to `family:<family>`, so spread
 * counts the tasks of the request's group — on the instance for `instanceId`/`host`, and on
 * every instance with the same attribute value for `attribute:<name>` (instances lacking the
 * attribute form one more value of their own). Tasks placed earlier in the call count.
 */
import { SchedulerInputError } from './errors.js';
import type { ProposedInstance } from './proposed-instance.js';
import type { PlacementStrategyView } from './types.js';

export type Ranker =
  | { readonly kind: 'random' }
  | {
      readonly kind: 'score';
      score(candidate: ProposedInstance): number;
      /** Called after a task is placed on `candidate`, for rankers that keep cluster-wide tallies. */
      placed?(candidate: ProposedInstance): void;
    };

/** ECS accepts at most 5 strategy rules per task or service. */
const MAX_STRATEGIES = 5;

/** Validates the strategies and turns them into rankers over the call's instances. */
export function rankersFor(strategies: readonly PlacementStrategyView[], instances: readonly ProposedInstance[]): Ranker[] {
  if (strategies.length > MAX_STRATEGIES) {
    throw new SchedulerInputError(`A maximum of ${MAX_STRATEGIES} placement strategies may be specified; ${strategies.length} were given.`);
  }
  return strategies.map((strategy) => rankerFor(strategy, instances));
}

function rankerFor(strategy: PlacementStrategyView, instances: readonly ProposedInstance[]): Ranker {
  const field = strategy.field;
  switch (strategy.type) {
    case 'random':
      return { kind: 'random' };
    case 'binpack':
      // Least remaining resource first; the instance must still fit the task (feasibility).
      if (field === 'cpu') return { kind: 'score', score: (c) => c.cpuRemaining };
      if (field === 'memory') return { kind: 'score', score: (c) => c.memoryRemaining };
      throw new SchedulerInputError(`Invalid field for binpack placement strategy: ${quote(field)}. Valid values are cpu and memory.`);
    case 'spread':
      if (field === 'instanceId' || field === 'host') return { kind: 'score', score: (c) => c.groupTasks };
      if (field?.startsWith('attribute:') && field.length > 'attribute:'.length) {
        return spreadByAttribute(field.slice('attribute:'.length), instances);
      }
      throw new SchedulerInputError(
        `Invalid field for spread placement strategy: ${quote(field)}. Valid values are instanceId, host or attribute:<name>.`,
      );
    default:
      throw new SchedulerInputError(`Invalid placement strategy type: ${quote(strategy.type)}. Valid types are random, spread and binpack.`);
  }
}

function quote(value: string | undefined): string {
  return value === undefined ? '(none)' : `'${value}'`;
}

/** Tallies the group's tasks per attribute value over every instance of the snapshot. */
function spreadByAttribute(name: string, instances: readonly ProposedInstance[]): Ranker {
  const bucketOf = new Int32Array(instances.length);
  const bucketIds = new Map<string | undefined, number>();
  const tally: number[] = [];
  for (const candidate of instances) {
    const value = Object.hasOwn(candidate.instance.attributes, name) ? (candidate.instance.attributes[name] ?? '') : undefined;
    let bucket = bucketIds.get(value);
    if (bucket === undefined) {
      bucket = tally.length;
      bucketIds.set(value, bucket);
      tally.push(0);
    }
    bucketOf[candidate.index] = bucket;
    tally[bucket]! += candidate.groupTasks;
  }
  return {
    kind: 'score',
    score: (c) => tally[bucketOf[c.index]!]!,
    placed: (c) => {
      tally[bucketOf[c.index]!]!++;
    },
  };
}
