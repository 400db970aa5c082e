/**
 * schedule(): a pure function from (cluster snapshot, request, seed) to a plan.
 *
 *   snapshot ──► ProposedInstance per instance (existing usage, summed once)
 *                    │
 *   for each task:   ▼
 *     candidates (ACTIVE instances, in a seeded random order)
 *       ──► rank by the strategies (cheap scores first)
 *       ──► feasibility checks, only for instances that could beat the current best
 *       ──► best instance ──► place: update its proposed usage, tallies and verdict
 *     no feasible instance ──► one failure per ACTIVE instance, with the first check it fails
 *
 * Why feasibility is checked lazily and cached: a placement changes the usage, groups and
 * ports of the one instance it lands on and nothing else, so an instance's verdict stays
 * valid until a task is placed on it. An instance found infeasible therefore stays out for
 * the rest of the call, and each placement costs one pass of score comparisons.
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
import { ProposedInstance } from './proposed-instance.js';
import { seededRandom, shuffledIndices, type Random } from './random.js';
import { taskReservation } from './reservation.js';
import { rankersFor, type Ranker } from './strategies.js';
import type {
  ClusterSnapshot,
  Placement,
  PlacementConstraintView,
  PlacementFailure,
  PlacementRequest,
  PlacementResult,
  TaskReservation,
} from './types.js';

/** ECS: up to 10 constraints per task, counting the task definition's and the request's. */
const MAX_CONSTRAINTS = 10;
const MAX_GROUP_LENGTH = 255;
/** No strategy given: RunTask places randomly. (Services pass their own; see SERVICE_DEFAULT_STRATEGY.) */
const DEFAULT_STRATEGY = [{ type: 'random' }] as const;

/** What ECS uses for a service created without a placement strategy: spread over Availability Zones. */
export const SERVICE_DEFAULT_STRATEGY = [{ type: 'spread', field: 'attribute:ecs.availability-zone' }] as const;

export function schedule(snapshot: ClusterSnapshot, request: PlacementRequest, env: { seed: string }): PlacementResult {
  // 1. Input: anything invalid throws SchedulerInputError before any work is done.
  if (!Number.isInteger(request.count) || request.count < 0) {
    throw new SchedulerInputError(`Invalid count: ${request.count}. It must be a whole number of tasks.`);
  }
  const group = request.group ?? `family:${request.taskDefinition.family}`;
  if (group.length === 0 || group.length > MAX_GROUP_LENGTH) {
    throw new SchedulerInputError(`Invalid group: a task group name must be 1 to ${MAX_GROUP_LENGTH} characters.`);
  }
  const reservation = taskReservation(request.taskDefinition, request.overrides);
  const constraintChecks = constraintChecksFor([
    ...(request.taskDefinition.placementConstraints ?? []),
    ...(request.placementConstraints ?? []),
  ]);
  const instances = snapshot.instances.map((instance, index) => new ProposedInstance(instance, index, group));
  const strategies = request.placementStrategy?.length ? request.placementStrategy : DEFAULT_STRATEGY;
  const rankers = rankersFor(strategies, instances);
  if (request.count === 0) return { placements: [], failures: [] };

  const active = instances.filter((c) => c.instance.status === 'ACTIVE');
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
  const shuffled = shuffledIndices(active.length, random);
  const selector = new Selector(
    Array.from(shuffled, (i) => active[i]!),
    instances.length,
    checks,
    rankers,
    random,
  );
  const placements: Placement[] = [];
  for (let n = 0; n < request.count; n++) {
    const chosen = selector.pick();
    if (!chosen) {
      // Every later task of this request is identical, so it would fail the same way.
      return { placements, failures: failuresFor(active, checks) };
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
function failuresFor(active: readonly ProposedInstance[], checks: readonly FeasibilityCheck[]): PlacementFailure[] {
  const failures: PlacementFailure[] = [];
  for (const candidate of active) {
    const failed = checks.find((check) => !check.feasible(candidate));
    if (failed) failures.push({ arn: candidate.instance.arn, reason: failed.reason });
  }
  return failures;
}

const UNKNOWN = 0;
const FEASIBLE = 1;
const INFEASIBLE = 2;

/** Picks the best feasible candidate under the rankers; remembers verdicts between picks. */
class Selector {
  private readonly verdict: Uint8Array;
  /** Score rankers up to the first `random`, which ends the chain. */
  private readonly scorers: ((c: ProposedInstance) => number)[] = [];
  private readonly pickRandomly: boolean;
  private readonly bestScores: Float64Array;
  private infeasibleSeen = 0;

  constructor(
    /** ACTIVE instances in a seeded random order, so that exact ties go to a random one. */
    private candidates: ProposedInstance[],
    instanceCount: number,
    private readonly checks: readonly FeasibilityCheck[],
    private readonly rankers: readonly Ranker[],
    private readonly random: Random,
  ) {
    this.verdict = new Uint8Array(instanceCount);
    let pickRandomly = false;
    for (const ranker of rankers) {
      if (ranker.kind === 'random') {
        pickRandomly = true;
        break;
      }
      this.scorers.push(ranker.score);
    }
    this.pickRandomly = pickRandomly;
    this.bestScores = new Float64Array(this.scorers.length);
  }

  pick(): ProposedInstance | undefined {
    const { scorers, bestScores, verdict } = this;
    const tied: ProposedInstance[] = [];
    let best: ProposedInstance | undefined;
    for (const candidate of this.candidates) {
      if (verdict[candidate.index] === INFEASIBLE) continue;
      // Compare with the best so far before paying for the feasibility checks.
      let order = -1;
      if (best) {
        order = 0;
        for (let r = 0; r < scorers.length; r++) {
          const score = scorers[r]!(candidate);
          if (score !== bestScores[r]) {
            order = score < bestScores[r]! ? -1 : 1;
            break;
          }
        }
        if (order > 0 || (order === 0 && !this.pickRandomly)) continue;
      }
      if (!this.isFeasible(candidate)) continue;
      if (order < 0) {
        best = candidate;
        for (let r = 0; r < scorers.length; r++) bestScores[r] = scorers[r]!(candidate);
        tied.length = 0;
      }
      if (this.pickRandomly) tied.push(candidate);
    }
    this.dropInfeasible();
    if (this.pickRandomly) return tied.length === 0 ? undefined : tied[this.random.below(tied.length)];
    return best;
  }

  place(chosen: ProposedInstance, reservation: TaskReservation): void {
    chosen.place(reservation);
    // Only the chosen instance changed, so only its verdict can be stale.
    this.verdict[chosen.index] = UNKNOWN;
    for (const ranker of this.rankers) if (ranker.kind === 'score') ranker.placed?.(chosen);
  }

  private isFeasible(candidate: ProposedInstance): boolean {
    let verdict = this.verdict[candidate.index]!;
    if (verdict === UNKNOWN) {
      verdict = this.checks.every((check) => check.feasible(candidate)) ? FEASIBLE : INFEASIBLE;
      this.verdict[candidate.index] = verdict;
      if (verdict === INFEASIBLE) this.infeasibleSeen++;
    }
    return verdict === FEASIBLE;
  }

  /** Keeps later passes short once many candidates are known not to fit (order preserved). */
  private dropInfeasible(): void {
    if (this.infeasibleSeen * 4 < this.candidates.length) return;
    this.candidates = this.candidates.filter((c) => this.verdict[c.index] !== INFEASIBLE);
    this.infeasibleSeen = 0;
  }
}
