/**
 * schedule(): a pure function from (cluster snapshot, request, seed) to a plan.
 *
 *   input ──► validate (SchedulerInputError) ──► reservation, constraint checks, rankers
 *   snapshot ──► ProposedCluster: per-instance sums of existing tasks (memoised when asked),
 *                plus this call's placements as deltas (Nomad's ProposedAllocs)
 *   for each task:
 *     candidates (ACTIVE instances, in a seeded random order)
 *       ──► selector (selection.ts): best scores under the strategies, checking feasibility
 *           only for would-be winners ──► place: update the instance, tallies and verdict
 *     none feasible ──► one failure per ACTIVE instance, with the first check it fails;
 *                       the remaining tasks are identical, so they would fail the same way
 */
import { compileClusterQuery } from './cluster-query-eval.js';
import { parseClusterQuery } from './cluster-query.js';
import { NoContainerInstancesError, SchedulerInputError } from './errors.js';
import {
  agentConnected,
  distinctInstance,
  enoughCpu,
  enoughMemory,
  freeHostPorts,
  memberOf,
  requiredAttributes,
  type FeasibilityCheck,
} from './feasibility.js';
import { ProposedCluster } from './proposed-instance.js';
import { SnapshotMemo } from './snapshot-memo.js';
import { seededOrder, seededRandom } from './random.js';
import { taskReservation } from './reservation.js';
import { defaultGroup } from './task-group.js';
import { selectorFor, type Verdicts } from './selection.js';
import { rankersFor, scoringStrategies } from './strategies.js';
import type {
  ClusterSnapshot,
  Placement,
  PlacementConstraintView,
  PlacementFailure,
  PlacementRequest,
  PlacementResult,
} from './types.js';

/** ECS: up to 10 constraints per task, counting the task definition's and the request's. */
const MAX_CONSTRAINTS = 10;
const MAX_GROUP_LENGTH = 255;
/** No strategy given: RunTask places randomly. (Services pass their own; see SERVICE_DEFAULT_STRATEGY.) */
const DEFAULT_STRATEGY = [{ type: 'random' }] as const;

/** What ECS uses for a service created without a placement strategy: spread over Availability Zones. */
export const SERVICE_DEFAULT_STRATEGY = [{ type: 'spread', field: 'attribute:ecs.availability-zone' }] as const;

export interface ScheduleEnv {
  /** Seeds the tie-breaking and `random` choices: same seed, same plan. */
  seed: string;
  /**
   * Optional cache of per-instance sums across calls (see SnapshotMemo for its contract:
   * instance objects are replaced, never mutated). Without it each call sums every task.
   */
  memo?: SnapshotMemo;
  /** Tests and benchmarks only: force a selection algorithm (both pick the same instances). */
  selection?: 'scan' | 'indexed';
}

export function schedule(snapshot: ClusterSnapshot, request: PlacementRequest, env: ScheduleEnv): PlacementResult {
  // 1. Input: anything invalid throws SchedulerInputError before any work is done.
  if (!Number.isInteger(request.count) || request.count < 0) {
    throw new SchedulerInputError(`Invalid count: ${request.count}. It must be a whole number of tasks.`);
  }
  const group = request.group ?? defaultGroup(request.taskDefinition.family);
  if (group.length === 0 || group.length > MAX_GROUP_LENGTH) {
    throw new SchedulerInputError(`Invalid group: a task group name must be 1 to ${MAX_GROUP_LENGTH} characters.`);
  }
  const reservation = taskReservation(request.taskDefinition, request.overrides);
  const constraintChecks = constraintChecksFor([
    ...(request.taskDefinition.placementConstraints ?? []),
    ...(request.placementConstraints ?? []),
  ]);
  const strategies = scoringStrategies(request.placementStrategy?.length ? request.placementStrategy : DEFAULT_STRATEGY);
  if (request.count === 0) return { placements: [], failures: [] };

  const cluster = new ProposedCluster(snapshot.instances, group, env.memo ?? new SnapshotMemo());
  const rankers = rankersFor(strategies, cluster);

  const active = cluster.memo.activeIndices();
  if (active.length === 0) throw new NoContainerInstancesError();

  // 2. The feasibility stack, in the order whose failure reason should win for an instance:
  //    agent first (nothing else matters on a disconnected host), then the task definition's
  //    requirements, then resources (ECS's first placement step), then the constraints.
  const checks: FeasibilityCheck[] = [
    agentConnected,
    ...optional(request.taskDefinition.requiresAttributes?.length ? requiredAttributes(request.taskDefinition.requiresAttributes) : undefined),
    enoughCpu(reservation),
    enoughMemory(reservation),
    ...optional(freeHostPorts(reservation, 'tcp')),
    ...optional(freeHostPorts(reservation, 'udp')),
    ...constraintChecks,
  ];

  // 3. Place one task at a time on the best feasible instance.
  const random = seededRandom(env.seed);
  const order = seededOrder(active, random);
  const selector = selectorFor(cluster, order, checks, rankers, random, request.count, env.selection);
  const placements: Placement[] = [];
  for (let n = 0; n < request.count; n++) {
    const chosen = selector.pick();
    if (!chosen) {
      // Every later task of this request is identical, so it would fail the same way.
      return { placements, failures: failuresFor(active, cluster, selector.verdicts) };
    }
    selector.place(chosen, reservation);
    placements.push({ instanceArn: chosen.instance.arn, hostPorts: reservation.hostPorts.map((b) => ({ ...b })) });
  }
  return { placements, failures: [] };
}

function optional<T>(item: T | undefined): T[] {
  return item === undefined ? [] : [item];
}

function constraintChecksFor(constraints: readonly PlacementConstraintView[]): FeasibilityCheck[] {
  if (constraints.length > MAX_CONSTRAINTS) {
    throw new SchedulerInputError(
      `A maximum of ${MAX_CONSTRAINTS} placement constraints may be specified, counting the task definition's; ${constraints.length} were given.`,
    );
  }
  return constraints.map((constraint) => {
    switch (constraint.type) {
      case 'distinctInstance':
        if (constraint.expression !== undefined && constraint.expression !== '') {
          throw new SchedulerInputError('A distinctInstance placement constraint takes no expression.');
        }
        return distinctInstance;
      case 'memberOf':
        if (constraint.expression === undefined || constraint.expression.trim() === '') {
          throw new SchedulerInputError('A memberOf placement constraint requires an expression.');
        }
        return memberOf(compileClusterQuery(parseClusterQuery(constraint.expression)));
      default:
        throw new SchedulerInputError(
          `Invalid placement constraint type: ${constraint.type === undefined ? '(none)' : `'${constraint.type}'`}. Valid types are distinctInstance and memberOf.`,
        );
    }
  });
}

/** One failure per ACTIVE instance, with the reason of the first check that rejects it. */
function failuresFor(active: Int32Array, cluster: ProposedCluster, verdicts: Verdicts): PlacementFailure[] {
  const failures: PlacementFailure[] = [];
  for (const index of active) {
    const failed = verdicts.rejectedBy(index);
    if (failed) failures.push({ arn: cluster.instances[index]!.arn, reason: failed.reason });
  }
  return failures;
}
