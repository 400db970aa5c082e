/**
 * Choosing the instance for the next task. Three selectors, one rule: among feasible
 * candidates, the smallest scores under the rankers in order, ties going to the earliest
 * candidate in the call's seeded random order. With no rankers (strategy `random`), a
 * uniform draw among the feasible candidates.
 *
 * All of them lean on one fact: a placement changes the usage, ports and groups of the one
 * instance it lands on and nothing else (spread tallies are scores, not feasibility). So a
 * feasibility verdict stays valid until a task lands on that instance, and an instance found
 * infeasible is out for the rest of the call.
 *
 * - UniformSelector (`random`): draws until a feasible one turns up; a few instances per task.
 * - ScanSelector: one pass of score comparisons per task, feasibility checked only for
 *   would-be winners. Cheapest to set up; used for small counts (RunTask's 1–10).
 * - IndexedSelector: candidates kept sorted, per partition of equal spread-attribute values,
 *   so a task costs a look at each partition's head plus one re-insertion. Sorting costs
 *   O(n log n) once, which pays off for the large counts a service reconciler asks for.
 *   It picks exactly what ScanSelector would (the tests check this).
 */
import type { FeasibilityCheck } from './feasibility.js';
import type { ProposedCluster, ProposedInstance } from './proposed-instance.js';
import type { Random } from './random.js';
import type { ScoreRanker } from './strategies.js';
import type { TaskReservation } from './types.js';

export interface Selector {
  /** The instance for the next task, or undefined when no candidate can take it. */
  pick(): ProposedInstance | undefined;
  /** Feasibility verdicts so far (after a failed pick, every ACTIVE instance has one). */
  readonly verdicts: Verdicts;
  /** Records a task placed on `chosen` (which must be the last pick). */
  place(chosen: ProposedInstance, reservation: TaskReservation): void;
}

const UNKNOWN = 0;
const FEASIBLE = 1;
/** INFEASIBLE + k: rejected by checks[k] (the first check that failed). */
const INFEASIBLE = 2;

/** Feasibility verdicts by instance index, computed on first use. */
export class Verdicts {
  private readonly verdict: Uint8Array;
  /** Infeasible verdicts reached since the owner last cleaned up its candidate list. */
  infeasibleSeen = 0;

  constructor(
    private readonly cluster: ProposedCluster,
    private readonly checks: readonly FeasibilityCheck[],
  ) {
    this.verdict = new Uint8Array(cluster.size);
  }

  knownInfeasible(index: number): boolean {
    return this.verdict[index]! >= INFEASIBLE;
  }

  feasible(index: number): boolean {
    let verdict = this.verdict[index]!;
    if (verdict === UNKNOWN) {
      const candidate = this.cluster.at(index);
      const failed = this.checks.findIndex((check) => !check.feasible(candidate));
      verdict = failed < 0 ? FEASIBLE : INFEASIBLE + failed;
      this.verdict[index] = verdict;
      if (verdict >= INFEASIBLE) this.infeasibleSeen++;
    }
    return verdict === FEASIBLE;
  }

  /** The check that rejects the instance, or undefined if it can take the task. */
  rejectedBy(index: number): FeasibilityCheck | undefined {
    return this.feasible(index) ? undefined : this.checks[this.verdict[index]! - INFEASIBLE];
  }

  /** Only the instance that got the task changed, so only its verdict can be stale. */
  invalidate(index: number): void {
    this.verdict[index] = UNKNOWN;
  }
}

/** Below this many tasks a call scans; at or above it, it sorts once (see the header). */
export const INDEXED_SELECTION_MIN_COUNT = 32;

export function selectorFor(
  cluster: ProposedCluster,
  /** ACTIVE instances' indices in the call's seeded random order. */
  order: Int32Array,
  checks: readonly FeasibilityCheck[],
  rankers: readonly ScoreRanker[],
  random: Random,
  count: number,
  force?: 'scan' | 'indexed',
): Selector {
  const verdicts = new Verdicts(cluster, checks);
  if (rankers.length === 0) return new UniformSelector(cluster, order, verdicts, random);
  const indexed = force ? force === 'indexed' : count >= INDEXED_SELECTION_MIN_COUNT;
  return indexed ? new IndexedSelector(cluster, order, verdicts, rankers) : new ScanSelector(cluster, order, verdicts, rankers);
}

function recordPlacement(chosen: ProposedInstance, reservation: TaskReservation, verdicts: Verdicts, rankers: readonly ScoreRanker[]): void {
  chosen.place(reservation);
  verdicts.invalidate(chosen.index);
  for (const ranker of rankers) ranker.placed(chosen);
}

/**
 * Draws candidates until one is feasible, dropping each infeasible one for good. Each draw is
 * uniform over the remaining candidates, so the pick is uniform over the feasible ones.
 */
class UniformSelector implements Selector {
  /** order[0..live) are the candidates not yet known to be infeasible. */
  private live: number;

  constructor(
    private readonly cluster: ProposedCluster,
    private readonly order: Int32Array,
    readonly verdicts: Verdicts,
    private readonly random: Random,
  ) {
    this.live = order.length;
  }

  pick(): ProposedInstance | undefined {
    const order = this.order;
    while (this.live > 0) {
      const at = this.random.below(this.live);
      const index = order[at]!;
      if (this.verdicts.feasible(index)) return this.cluster.at(index);
      order[at] = order[this.live - 1]!;
      this.live--;
    }
    return undefined;
  }

  place(chosen: ProposedInstance, reservation: TaskReservation): void {
    recordPlacement(chosen, reservation, this.verdicts, []);
  }
}

/** One pass of score comparisons per task; feasibility is checked only for would-be winners. */
class ScanSelector implements Selector {
  private live: number;
  private readonly keyOf: Int32Array[];
  private readonly values: Float64Array[];

  constructor(
    private readonly cluster: ProposedCluster,
    private readonly order: Int32Array,
    readonly verdicts: Verdicts,
    private readonly rankers: readonly ScoreRanker[],
  ) {
    this.live = order.length;
    this.keyOf = rankers.map((r) => r.keyOf);
    this.values = rankers.map((r) => r.values);
  }

  /**
   * The hot loop of RunTask-sized calls (thousands of candidates per task), so the first
   * ranker's arrays are hoisted into locals and most candidates are rejected on one
   * comparison; deeper rankers only run on ties.
   */
  pick(): ProposedInstance | undefined {
    const { order, verdicts } = this;
    const keys0 = this.keyOf[0]!;
    const values0 = this.values[0]!;
    let best = -1;
    let best0 = 0;
    for (let at = 0; at < this.live; at++) {
      const index = order[at]!;
      if (verdicts.knownInfeasible(index)) continue;
      if (best >= 0) {
        const score0 = values0[keys0[index]!]!;
        // Ties keep the earlier candidate in the seeded order.
        if (score0 > best0 || (score0 === best0 && !this.beatsOnLaterRankers(index, best))) continue;
      }
      if (!verdicts.feasible(index)) continue;
      best = index;
      best0 = values0[keys0[index]!]!;
    }
    this.dropInfeasible();
    return best < 0 ? undefined : this.cluster.at(best);
  }

  place(chosen: ProposedInstance, reservation: TaskReservation): void {
    recordPlacement(chosen, reservation, this.verdicts, this.rankers);
  }

  /** With equal first scores: is `index` strictly better than `best` under the other rankers? */
  private beatsOnLaterRankers(index: number, best: number): boolean {
    for (let r = 1; r < this.keyOf.length; r++) {
      const keys = this.keyOf[r]!;
      const values = this.values[r]!;
      const score = values[keys[index]!]!;
      const bestScore = values[keys[best]!]!;
      if (score !== bestScore) return score < bestScore;
    }
    return false;
  }

  /** Keeps later passes short once many candidates are known not to fit (order preserved). */
  private dropInfeasible(): void {
    if (this.verdicts.infeasibleSeen * 4 < this.live) return;
    let kept = 0;
    for (let at = 0; at < this.live; at++) {
      const index = this.order[at]!;
      if (!this.verdicts.knownInfeasible(index)) this.order[kept++] = index;
    }
    this.live = kept;
    this.verdicts.infeasibleSeen = 0;
  }
}

/**
 * Candidates sorted by (scores, seeded position), split into partitions whose members share
 * every spread-by-attribute value. Inside a partition those tallies are equal, so its order
 * only changes when one of its members gets a task, and the best candidate overall is the
 * best of the partitions' first feasible members.
 */
class IndexedSelector implements Selector {
  /** Per partition: instance indices, sorted; entries before `heads[p]` are dropped. */
  private readonly partitions: number[][] = [];
  private readonly heads: number[] = [];
  private readonly partitionOf: Int32Array;
  private readonly positionOf: Int32Array;
  private readonly keyOf: Int32Array[];
  private readonly values: Float64Array[];

  constructor(
    private readonly cluster: ProposedCluster,
    order: Int32Array,
    readonly verdicts: Verdicts,
    private readonly rankers: readonly ScoreRanker[],
  ) {
    this.keyOf = rankers.map((r) => r.keyOf);
    this.values = rankers.map((r) => r.values);
    this.positionOf = new Int32Array(cluster.size);
    order.forEach((index, position) => (this.positionOf[index] = position));
    this.partitionOf = new Int32Array(cluster.size);
    const byAttributes = rankers.filter((r) => r.scope === 'attribute');
    const partitionIds = new Map<string, number>();
    for (const index of order) {
      const signature = byAttributes.map((r) => r.keyOf[index]).join(',');
      let partition = partitionIds.get(signature);
      if (partition === undefined) {
        partition = this.partitions.length;
        partitionIds.set(signature, partition);
        this.partitions.push([]);
        this.heads.push(0);
      }
      this.partitionOf[index] = partition;
      this.partitions[partition]!.push(index);
    }
    for (const members of this.partitions) members.sort((a, b) => this.compare(a, b));
  }

  pick(): ProposedInstance | undefined {
    let best = -1;
    for (let p = 0; p < this.partitions.length; p++) {
      const members = this.partitions[p]!;
      let head = this.heads[p]!;
      while (head < members.length && !this.verdicts.feasible(members[head]!)) head++;
      this.heads[p] = head;
      if (head === members.length) continue;
      const candidate = members[head]!;
      if (best < 0 || this.compare(candidate, best) < 0) best = candidate;
    }
    return best < 0 ? undefined : this.cluster.at(best);
  }

  place(chosen: ProposedInstance, reservation: TaskReservation): void {
    recordPlacement(chosen, reservation, this.verdicts, this.rankers);
    // The chosen instance was its partition's head; its scores changed, so re-insert it.
    const p = this.partitionOf[chosen.index]!;
    const members = this.partitions[p]!;
    const head = this.heads[p]!;
    members.splice(head, 1);
    let low = head;
    let high = members.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compare(members[mid]!, chosen.index) < 0) low = mid + 1;
      else high = mid;
    }
    members.splice(low, 0, chosen.index);
  }

  /** Scores in ranker order, then the seeded position. */
  private compare(a: number, b: number): number {
    const { keyOf, values } = this;
    for (let r = 0; r < keyOf.length; r++) {
      const scoreA = values[r]![keyOf[r]![a]!]!;
      const scoreB = values[r]![keyOf[r]![b]!]!;
      if (scoreA !== scoreB) return scoreA < scoreB ? -1 : 1;
    }
    return this.positionOf[a]! - this.positionOf[b]!;
  }
}
