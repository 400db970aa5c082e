/**
 * Placement strategies as rankers. A ranker scores a feasible instance (lower is better);
 * strategies apply in the order given, the first one being the primary key and later ones
 * breaking its ties, as ECS evaluates them. `random` picks among the instances tied under the
 * strategies before it, so strategies after a `random` never matter. Instances still tied
 * after the last strategy go to the first in the call's seeded random order.
 *
 * Spread reading (ECS guide: "Service tasks are spread based on the tasks from that service.
 * Standalone tasks are spread based on the tasks from the same task group"): a service's
 * group is `service:<name>` and a standalone task's defaults to `family:<family>`, so spread
 * counts the tasks of the request's group — on the instance for `instanceId`/`host`, and on
 * every instance with the same attribute value for `attribute:<name>` (instances lacking the
 * attribute form one more value of their own). Tasks placed earlier in the call count.
 */
import { SchedulerInputError } from './errors.js';
import type { ProposedCluster, ProposedInstance } from './proposed-instance.js';
import type { PlacementStrategyView } from './types.js';

/**
 * A scoring ranker keeps its scores in flat arrays so that comparing thousands of candidates
 * per placement is a tight loop: the score of instance i is `values[keyOf[i]]`. Instance-level
 * rankers (binpack, spread by instance) key by the instance itself; spread by attribute keys
 * by the attribute value, so one placement updates the tally every instance of that value sees.
 */
export interface ScoreRanker {
  /** 'instance': keyed by the instance itself; 'attribute': by an attribute's value (spread). */
  readonly scope: 'instance' | 'attribute';
  readonly keyOf: Int32Array;
  readonly values: Float64Array;
  /** Called after a task is placed on `candidate`. */
  placed(candidate: ProposedInstance): void;
}

/** ECS accepts at most 5 strategy rules per task or service. */
const MAX_STRATEGIES = 5;

/**
 * Validates the strategies (throwing SchedulerInputError) and returns the scoring ones that
 * come before the first `random`, which ends the chain. Empty means: pick uniformly among
 * the feasible instances.
 */
export function scoringStrategies(strategies: readonly PlacementStrategyView[]): ScoringStrategy[] {
  if (strategies.length > MAX_STRATEGIES) {
    throw new SchedulerInputError(`A maximum of ${MAX_STRATEGIES} placement strategies may be specified; ${strategies.length} were given.`);
  }
  const kinds = strategies.map(strategyKind);
  const scoring: ScoringStrategy[] = [];
  for (const kind of kinds) {
    if (kind.type === 'random') break;
    scoring.push(kind);
  }
  return scoring;
}

/** The rankers of the scoring strategies, over this call's instances. */
export function rankersFor(strategies: readonly ScoringStrategy[], cluster: ProposedCluster): ScoreRanker[] {
  return strategies.map((strategy) => strategy.build(cluster));
}

export interface ScoringStrategy {
  type: 'score';
  build(cluster: ProposedCluster): ScoreRanker;
}
type StrategyKind = { type: 'random' } | ScoringStrategy;

function strategyKind(strategy: PlacementStrategyView): StrategyKind {
  const field = strategy.field;
  switch (strategy.type) {
    case 'random':
      return { type: 'random' };
    case 'binpack':
      // Least remaining resource first; the instance must still fit the task (feasibility).
      if (field === 'cpu') {
        return {
          type: 'score',
          build: (cluster) =>
            perInstance(cluster, cluster.memo.free('cpu'), (c) => c.cpuRemaining),
        };
      }
      if (field === 'memory') {
        return {
          type: 'score',
          build: (cluster) =>
            perInstance(cluster, cluster.memo.free('memory'), (c) => c.memoryRemaining),
        };
      }
      throw new SchedulerInputError(`Invalid field for binpack placement strategy: ${quote(field)}. Valid values are cpu and memory.`);
    case 'spread':
      if (field === 'instanceId' || field === 'host') {
        return {
          type: 'score',
          build: (cluster) => perInstance(cluster, cluster.memo.tasksInGroup(cluster.requestGroupId), (c) => c.groupTasks),
        };
      }
      if (field?.startsWith('attribute:') && field.length > 'attribute:'.length) {
        const name = field.slice('attribute:'.length);
        return { type: 'score', build: (cluster) => spreadByAttribute(name, cluster) };
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

/**
 * A score of each instance's own: `initial` holds the scores as the snapshot has them (shared
 * with the memo, so copied), `current` re-scores the instance that just got a task.
 */
function perInstance(cluster: ProposedCluster, initial: Float64Array | Int32Array, current: (c: ProposedInstance) => number): ScoreRanker {
  const values = Float64Array.from(initial);
  return {
    scope: 'instance',
    keyOf: cluster.memo.identity(),
    values,
    placed: (c) => {
      values[c.index] = current(c);
    },
  };
}

/** Tallies the group's tasks per attribute value over every instance of the snapshot. */
function spreadByAttribute(name: string, cluster: ProposedCluster): ScoreRanker {
  const { bucketOf, buckets } = cluster.memo.attributeBuckets(name);
  const inGroup = cluster.memo.tasksInGroup(cluster.requestGroupId);
  const values = new Float64Array(buckets);
  for (let index = 0; index < bucketOf.length; index++) values[bucketOf[index]!]! += inGroup[index]!;
  return {
    scope: 'attribute',
    keyOf: bucketOf,
    values,
    placed: (c) => {
      values[bucketOf[c.index]!]!++;
    },
  };
}
