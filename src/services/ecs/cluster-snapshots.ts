/**
 * RunTask's view of a cluster: its container instances, each with the live tasks that hold
 * resources on it (the scheduler's ClusterSnapshot).
 *
 * Reading every live task's reservation columns on each RunTask costs O(tasks in the cluster) per
 * call (10,000 rows at 10,000 tasks). Instead, the first call for a cluster reads them once and
 * the store's write notifications (Store.observeWrites) keep them current: each write reports the
 * task rows it touched, old and new indexed columns, before the next write can run. Instances
 * whose tasks and document did not change keep the same InstanceView object, so the cluster's
 * SnapshotMemo re-sums only the instances that changed (its copy-on-write contract).
 *
 * Only write transactions may use it (RunTask, StartTask): they see every earlier write, committed
 * or not, exactly like the notifications. A lost group commit drops everything (lost()).
 */
import { SnapshotMemo, type InstanceView, type TaskView } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { IndexValue, Store, StoreTx, TouchedRow } from '../../store/store.js';
import { InstanceViewCache } from './instance-views.js';

/** The task columns the snapshot needs (no document is parsed). */
const TASK_COLUMNS = ['cluster', 'instance', 'family', 'task_group', 'last_status', 'reserved_cpu', 'reserved_memory', 'host_ports'] as const;
type TaskColumns = Record<(typeof TASK_COLUMNS)[number], IndexValue> & { pk: string };

/** Shared by every instance without tasks, so that such an instance's view stays the same object. */
const NO_TASKS: readonly TaskView[] = Object.freeze([]);

interface ClusterState {
  /** Live tasks by instance; an instance's array is replaced, never changed, when its tasks change. */
  byInstance: Map<string, readonly TaskView[]>;
  /** Where each live task is. */
  instanceOf: Map<string, string>;
  /** The InstanceView last handed out per instance, with what it was built from. */
  views: Map<string, { base: InstanceView; tasks: readonly TaskView[]; view: InstanceView }>;
}

export class ClusterSnapshots {
  private readonly clusters = new Map<string, ClusterState>();
  private readonly memos = new Map<string, SnapshotMemo>();
  private readonly instanceViews = new InstanceViewCache();

  constructor(store: Store) {
    store.observeWrites({ written: (rows) => this.apply(rows), lost: () => this.clusters.clear() });
    // A reset deletes rows without per-row notifications: start again from the store.
    store.onClear(() => this.clusters.clear());
  }

  /**
   * The cluster's ACTIVE and DRAINING instances with their live tasks, as of `tx` (a write
   * transaction); `keep` selects instances (by their view without tasks).
   */
  async instances(tx: StoreTx, clusterArn: string, keep: (instance: InstanceView) => boolean = () => true): Promise<InstanceView[]> {
    const rows = await tx.select(c.containerInstances, [], { where: { cluster: clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } }, orderBy: [['pk', 'asc']] });
    const bases = (await this.instanceViews.of(tx, rows)).filter(keep);
    const state = this.clusters.get(clusterArn) ?? (await this.load(tx, clusterArn));
    return bases.map((base) => {
      const tasks = state.byInstance.get(base.arn) ?? NO_TASKS;
      const last = state.views.get(base.arn);
      if (last && last.base === base && last.tasks === tasks) return last.view;
      const view = { ...base, tasks };
      state.views.set(base.arn, { base, tasks, view });
      return view;
    });
  }

  /** Drops what is kept for the cluster: the next call reads all its live tasks again (bench/scheduler.ts compares the two). */
  forget(clusterArn: string): void {
    this.clusters.delete(clusterArn);
  }

  /** One memo per cluster and kind of request, kept across RunTask calls. */
  memo(clusterArn: string, kind: string): SnapshotMemo {
    const key = `${kind} ${clusterArn}`;
    let memo = this.memos.get(key);
    if (!memo) {
      memo = new SnapshotMemo();
      this.memos.set(key, memo);
    }
    return memo;
  }

  private async load(tx: StoreTx, clusterArn: string): Promise<ClusterState> {
    const rows = await tx.select(c.tasks, TASK_COLUMNS, { where: { cluster: clusterArn, last_status: { not: 'STOPPED' } } });
    const state: ClusterState = { byInstance: new Map(), instanceOf: new Map(), views: new Map() };
    const lists = new Map<string, TaskView[]>();
    for (const r of rows) {
      const instance = String(r.instance);
      let list = lists.get(instance);
      if (!list) lists.set(instance, (list = []));
      list.push(taskView(r));
      state.instanceOf.set(r.pk, instance);
    }
    for (const [instance, list] of lists) state.byInstance.set(instance, list);
    this.clusters.set(clusterArn, state);
    return state;
  }

  private apply(rows: readonly TouchedRow[]): void {
    for (const row of rows) {
      if (row.collection !== c.tasks.name) continue;
      const state = this.clusters.get(String(row.columns.cluster));
      if (!state) continue;
      const pk = String(row.columns.pk);
      const was = state.instanceOf.get(pk);
      if (was !== undefined) {
        state.instanceOf.delete(pk);
        const remaining = state.byInstance.get(was)!.filter((t) => t.arn !== pk);
        if (remaining.length > 0) state.byInstance.set(was, remaining);
        else state.byInstance.delete(was);
      }
      // A task holds resources from RunTask until it is STOPPED.
      if (row.phase === 'new' && row.columns.last_status !== 'STOPPED' && row.columns.instance !== null) {
        const instance = String(row.columns.instance);
        state.instanceOf.set(pk, instance);
        state.byInstance.set(instance, [...(state.byInstance.get(instance) ?? []), taskView(row.columns as TaskColumns)]);
      }
    }
  }
}

/** What a task document holds on its instance, as the snapshot shows it. */
export function liveTaskView(doc: TaskDoc): TaskView {
  const columns = Object.fromEntries(Object.entries(c.tasks.columns).map(([name, col]) => [name, col.get(doc)]));
  return taskView({ ...columns, pk: doc.taskArn } as TaskColumns);
}

function taskView(r: TaskColumns): TaskView {
  return {
    arn: r.pk,
    family: String(r.family),
    group: r.task_group === null ? undefined : String(r.task_group),
    taskDefinitionArn: '',
    lastStatus: String(r.last_status),
    cpu: Number(r.reserved_cpu ?? 0),
    memory: Number(r.reserved_memory ?? 0),
    hostPorts: r.host_ports
      ? String(r.host_ports)
          .split(',')
          .map((p) => {
            const [port, protocol] = p.split('/');
            return { port: Number(port), protocol: protocol === 'udp' ? 'udp' : 'tcp' } as const;
          })
      : [],
  };
}
