/**
 * One container instance as seen during one schedule() call: the tasks it already runs plus
 * the tasks this call has placed on it so far (Nomad's ProposedAllocs). Every check and
 * ranker reads usage from here, so placing `count` tasks never over-commits an instance.
 *
 * What the existing tasks add up to is an InstanceSummary: a pure function of the
 * InstanceView, computed once per call, or once per instance *object* when the caller keeps a
 * SnapshotMemo across calls. The call's own placements are kept apart, as deltas, so
 * summaries are never modified.
 */
import type { QueryTarget } from './cluster-query-eval.js';
import type { InstanceSummary, SnapshotMemo } from './snapshot-memo.js';
import type { InstanceView, TaskReservation } from './types.js';

export class ProposedInstance implements QueryTarget {
  /** Tasks this call placed here. */
  placed = 0;
  /** Every placement of one call reserves the same thing. */
  private reservation: TaskReservation | undefined;
  private groupSet: Set<string> | undefined;

  constructor(
    readonly instance: InstanceView,
    /** Position in the snapshot: the key for per-call arrays. */
    readonly index: number,
    private readonly summary: InstanceSummary,
    private readonly requestGroup: string,
    private readonly requestGroupId: number,
    /** Copied from the memo's flat arrays: checks read these on thousands of candidates. */
    private readonly freeCpu: number,
    private readonly freeMemory: number,
    readonly agentConnected: boolean,
  ) {}

  get cpuRemaining(): number {
    return this.freeCpu - this.placed * (this.reservation?.cpu ?? 0);
  }

  get memoryRemaining(): number {
    return this.freeMemory - this.placed * (this.reservation?.memory ?? 0);
  }

  /** Tasks of the request's group on this instance, existing and placed by this call. */
  get groupTasks(): number {
    return this.summary.tasksInGroup(this.requestGroupId) + this.placed;
  }

  /** Is this host port taken: reserved by the host, bound by a task, or by this call's placements? */
  portTaken(port: number, protocol: 'tcp' | 'udp'): boolean {
    if (this.summary.portsTaken(protocol).has(port)) return true;
    if (this.placed === 0) return false;
    return this.reservation!.hostPorts.some((b) => b.hostPort === port && b.protocol === protocol);
  }

  taskGroups(): ReadonlySet<string> {
    if (!this.groupSet) {
      this.groupSet = new Set(this.summary.groupNames);
      if (this.placed > 0) this.groupSet.add(this.requestGroup);
    }
    return this.groupSet;
  }

  /** Tasks placed by this call are not running yet. */
  runningTasksCount(): number {
    return this.summary.running;
  }

  /** Records one task of the request placed here. */
  place(reservation: TaskReservation): void {
    this.reservation = reservation;
    this.placed++;
    this.groupSet?.add(this.requestGroup);
  }
}

/**
 * The instances of one call, each looked at only when something first asks about it: a
 * random placement looks at a handful of instances, a spread or binpack ranking at all.
 */
export class ProposedCluster {
  private readonly byIndex: (ProposedInstance | undefined)[];
  readonly requestGroupId: number;

  constructor(
    readonly instances: readonly InstanceView[],
    readonly requestGroup: string,
    /** Synced with `instances` by the constructor. */
    readonly memo: SnapshotMemo,
  ) {
    memo.sync(instances);
    this.byIndex = new Array<ProposedInstance | undefined>(instances.length);
    this.requestGroupId = memo.interner.id(requestGroup);
  }

  get size(): number {
    return this.instances.length;
  }

  at(index: number): ProposedInstance {
    let proposed = this.byIndex[index];
    if (!proposed) {
      const free = this.memo.freeAt(index);
      proposed = new ProposedInstance(
        this.instances[index]!,
        index,
        this.memo.summaryAt(index),
        this.requestGroup,
        this.requestGroupId,
        free.cpu,
        free.memory,
        free.agentConnected,
      );
      this.byIndex[index] = proposed;
    }
    return proposed;
  }
}
