/**
 * The task-set side of the service scheduler: one reconciliation of one service with the EXTERNAL
 * deployment controller, inside the service scheduler's write transaction (ServiceScheduler hands
 * such services here). Each task set gets its computedDesiredCount of tasks (the service's
 * desiredCount times its scale, rounded up): missing ones are placed through RunTask's placement
 * path (Tasks.place), extra ones stopped — behind a load balancer deregistered and drained first,
 * with the same functions the service scheduler uses. Task sets' counts and stability status are
 * kept current; a deleted (DRAINING) task set goes once its tasks have stopped, and a deleted
 * service becomes INACTIVE once all its tasks have.
 */
import { containerUnhealthyEvent, ELB_UNHEALTHY_STOP_REASON, gracePeriodOver, SCALING_STOP_REASON, steadyStateEvent, targetUnhealthyEvent, UNHEALTHY_STOP_REASON } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { Row, StoreTx } from '../../store/store.js';
import type { ClusterRecord } from './clusters.js';
import { instanceIdsOf, lbHealthOf, noteLbWork, placeServiceTasks, stopServiceTask, taskEvents, taskTargets, type LbSnapshot, type LbTarget, type LbWork } from './service-scheduler.js';
import { addEvents, type ServiceRecord } from './services.js';
import { computedDesiredCount, type TaskSetRecord } from './task-set-records.js';
import { markSeenByService } from './task-state.js';
import type { Tasks } from './tasks.js';

interface LbRef {
  targetGroupArn?: string;
  containerName?: string;
  containerPort?: number;
}

/** A stop the scheduler asked for (behind a load balancer: a drain under way) or one already under way. */
const stopping = (t: TaskDoc) => t.desiredStatus === 'STOPPED' || typeof t.lbStopReason === 'string';

export class TaskSetScheduler {
  constructor(
    private readonly tasks: Tasks,
    private readonly maxStarts: number,
    private readonly maxBackoff: number,
  ) {}

  /** The target groups of the service's task sets (what the controller reads health for). */
  async targetGroupArns(tx: StoreTx, serviceArn: string): Promise<string[]> {
    const arns = new Set<string>();
    for (const r of await tx.find(c.taskSets, { where: { service: serviceArn } })) {
      for (const ref of ((r.data as TaskSetRecord).loadBalancers ?? []) as LbRef[]) if (ref.targetGroupArn) arns.add(ref.targetGroupArn);
    }
    return [...arns];
  }

  async reconcile(tx: StoreTx, row: Row<ServiceRecord>, lb: LbSnapshot | undefined, now: number): Promise<{ wakeAt?: number; lb?: LbWork }> {
    const doc = structuredClone(row.data);
    const before = JSON.stringify(doc);
    const cluster = (await tx.get(c.clusters, doc.clusterArn))?.data as ClusterRecord | undefined;
    if (!cluster) return {};
    const sets = (await tx.find(c.taskSets, { where: { service: doc.serviceArn } })).map((r) => ({ row: r as Row<TaskSetRecord>, set: structuredClone(r.data) as TaskSetRecord }));
    sets.sort((a, b) => (a.set.status === 'PRIMARY' ? -1 : b.set.status === 'PRIMARY' ? 1 : a.set.createdAt - b.set.createdAt));
    const byId = new Map(sets.map((s) => [s.set.id, s]));
    const taskRows = await tx.find(c.tasks, { where: { service_open: `${doc.clusterArn}|${doc.serviceName}` } });
    const balanced = sets.some((s) => s.set.loadBalancers.length > 0);
    const instanceIds = balanced ? await instanceIdsOf(tx, doc.clusterArn) : new Map<string, string>();
    const work: LbWork = { register: [], deregister: [], drains: [] };
    const events: string[] = [];

    // Each open task: its load-balancer work, and which task set it belongs to.
    const targetsOf = new Map<string, LbTarget[]>();
    const tasksOf = new Map<string, Row<TaskDoc>[]>();
    const orphans: Row<TaskDoc>[] = [];
    for (const t of taskRows) {
      const owner = byId.get(t.data.startedBy ?? '');
      const refs = (owner?.set.loadBalancers ?? []) as LbRef[];
      if (refs.length > 0) {
        const targets = taskTargets(t.data, refs, instanceIds);
        targetsOf.set(t.pk, targets);
        noteLbWork(t.data, targets, lb, work);
      }
      if (t.data.lastStatus === 'STOPPED') {
        // Accounted for: it leaves the service's open tasks (a task set that wants it gets a new one).
        await markSeenByService(tx, t);
        continue;
      }
      if (owner) tasksOf.set(owner.set.id, [...(tasksOf.get(owner.set.id) ?? []), t]);
      else orphans.push(t);
    }
    for (const t of orphans) if (!stopping(t.data)) await stopServiceTask(tx, t, targetsOf.get(t.pk) ?? [], lb, 'Task set deleted.', now, work);

    let wakeAt: number | undefined;
    let running = 0;
    let pending = 0;
    let allSteady = true;
    const retryLater = doc.placementRetryAt !== undefined && now < doc.placementRetryAt;
    let failure: string | undefined;
    for (const { row: setRow, set } of sets) {
      const desired = computedDesiredCount(doc, set);
      const mine = tasksOf.get(set.id) ?? [];
      const refs = set.loadBalancers as LbRef[];
      // A RUNNING task failing its container or load-balancer health check after the grace period is replaced, as a service's is.
      const svc = `(service ${doc.serviceName}, taskSet ${set.id})`;
      const replaced = new Set<string>();
      for (const t of mine) {
        const startedAt = typeof t.data.startedAt === 'number' ? t.data.startedAt : undefined;
        if (stopping(t.data) || t.data.lastStatus !== 'RUNNING' || !gracePeriodOver(startedAt, doc.healthCheckGracePeriodSeconds ?? 0, now)) continue;
        const lbHealth = refs.length > 0 ? lbHealthOf(targetsOf.get(t.pk) ?? [], lb, refs.length) : undefined;
        const bad = lbHealth?.state === 'unhealthy' ? lbHealth.unhealthy : undefined;
        if (t.data.healthStatus === 'UNHEALTHY') {
          await stopServiceTask(tx, t, targetsOf.get(t.pk) ?? [], lb, UNHEALTHY_STOP_REASON, now, work);
          events.push(containerUnhealthyEvent(svc, t.pk));
        } else if (bad) {
          await stopServiceTask(tx, t, targetsOf.get(t.pk) ?? [], lb, ELB_UNHEALTHY_STOP_REASON(bad.targetGroupArn), now, work);
          events.push(targetUnhealthyEvent(svc, bad));
        } else continue;
        replaced.add(t.pk);
      }
      const live = mine.filter((t) => !stopping(t.data) && !replaced.has(t.pk));
      const reason = SCALING_STOP_REASON(set.id);
      let started: string[] = [];
      if (live.length > desired) {
        // Tasks not yet RUNNING go first, then the newest.
        const victims = [...live].sort((a, b) => Number(a.data.lastStatus === 'RUNNING') - Number(b.data.lastStatus === 'RUNNING') || b.data.createdAt - a.data.createdAt).slice(0, live.length - desired);
        for (const t of victims) await stopServiceTask(tx, t, targetsOf.get(t.pk) ?? [], lb, reason, now, work);
        const stoppedArns = victims.map((t) => t.pk);
        events.push(...taskEvents(stoppedArns, (n, tasks) => `(service ${doc.serviceName}, taskSet ${set.id}) has stopped ${n} running tasks: ${tasks}.`));
        const gone = new Set(stoppedArns);
        live.splice(0, live.length, ...live.filter((t) => !gone.has(t.pk)));
      } else if (live.length < desired && doc.status === 'ACTIVE') {
        if (retryLater || failure !== undefined) wakeAt = doc.placementRetryAt;
        else {
          const r = await placeServiceTasks(this.tasks, tx, doc, cluster, set, desired - live.length, this.maxStarts);
          started = r.started;
          if (r.failure) failure = r.failure;
          events.push(...taskEvents(started, (n, tasks) => `(service ${doc.serviceName}, taskSet ${set.id}) has started ${n} tasks: ${tasks}.`));
        }
      }
      const runningTasks = live.filter((t) => t.data.lastStatus === 'RUNNING');
      const setRunning = runningTasks.length;
      const setPending = live.length - setRunning + started.length;
      const healthy = refs.length === 0 || runningTasks.every((t) => lbHealthOf(targetsOf.get(t.pk) ?? [], lb, refs.length).state === 'healthy');
      const steady = setRunning === desired && setPending === 0 && mine.length === live.length && healthy;
      allSteady &&= steady;
      running += setRunning;
      pending += setPending;
      if (set.status === 'DRAINING' && mine.length === 0) {
        await tx.delete(c.taskSets, set.taskSetArn);
        continue;
      }
      const next: TaskSetRecord = { ...set, computedDesiredCount: desired, runningCount: setRunning, pendingCount: setPending, stabilityStatus: steady ? 'STEADY_STATE' : 'STABILIZING' };
      if (next.stabilityStatus !== set.stabilityStatus) next.stabilityStatusAt = now;
      if (JSON.stringify(next) !== JSON.stringify(set)) {
        next.updatedAt = now;
        await tx.update(c.taskSets, setRow, next);
      }
    }

    if (failure !== undefined) {
      events.push(failure);
      doc.placementAttempts = (doc.placementAttempts ?? 0) + 1;
      doc.placementRetryAt = now + Math.min(this.maxBackoff, 2 ** (doc.placementAttempts - 1));
      wakeAt = doc.placementRetryAt;
    } else if (!retryLater) {
      doc.placementAttempts = 0;
      doc.placementRetryAt = undefined;
    }
    doc.runningCount = running;
    doc.pendingCount = pending;
    if (allSteady && !doc.steady && doc.status === 'ACTIVE') events.push(steadyStateEvent(`(service ${doc.serviceName})`));
    doc.steady = allSteady;
    // A deleted service is gone once its last task has stopped; so are its task sets.
    if (doc.status === 'DRAINING' && taskRows.every((t) => t.data.lastStatus === 'STOPPED')) {
      doc.status = 'INACTIVE';
      for (const s of sets) await tx.delete(c.taskSets, s.set.taskSetArn);
    }
    addEvents(doc, events, now);
    if (JSON.stringify(doc) !== before) await tx.update(c.services, row, doc);
    // Target health lives outside the store: a load-balanced service looks again within a second.
    if (balanced) wakeAt = Math.min(wakeAt ?? Infinity, now + 1);
    return { wakeAt, lb: balanced ? work : undefined };
  }
}
