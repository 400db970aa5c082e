/**
 * The write side of the service scheduler: one reconciliation of one service, inside one write
 * transaction. It reads the service, its open tasks (the tasks' `service_open` column) and the
 * cluster's instances, asks the decision function (the pure decideService, handed in by the
 * controller) what to do, and applies the answer: stops through the task writer, starts through
 * the placement path RunTask uses (Tasks.place), deployments, history records and events.
 *
 * Writes are serialised by the store, and every decision is taken from the state inside the same
 * transaction that applies it: a retried or resumed reconciliation (a control-plane restart) sees
 * the tasks an earlier one started and never starts them twice.
 */
import { AwsError } from '../../aws/errors.js';
import type { Clock } from '../../core/clock.js';
import { decideShift, readyCount, SERVICE_DEFAULT_STRATEGY, type decideService, type ForwardChange, type PlacementFailure, type ServiceInput, type ServiceTaskInput, type TaskLbHealth } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { Row, Store, StoreTx } from '../../store/store.js';
import { clusterNameOf } from './arns.js';
import type { ClusterRecord } from './clusters.js';
import { addEvents, finishServiceDeployment, startDeployment, type DeploymentRecord, type ServiceRecord } from './services.js';
import { alarmInAlarm, failOnAlarm } from './deployment-alarms.js';
import { applyShift, rollBackShift, shiftPlanOf } from './traffic-shift.js';
import { markDeregistering, markSeenByService, requestStop } from './task-state.js';
import type { TaskDefinitionRecord } from './task-definitions.js';
import { isExternal } from './task-set-records.js';
import { TaskSetScheduler } from './task-set-scheduler.js';
import type { Tasks } from './tasks.js';

export type DecideService = typeof decideService;

export interface ServiceSchedulerOptions {
  /** At most this many tasks are placed per service per reconciliation (keeps each write short). */
  maxStartsPerPass?: number;
  /** Placement retries back off exponentially up to this many seconds. */
  maxBackoffSeconds?: number;
  /** Seconds in a minute of bake time and hook timeouts (tests shorten it; default 60). */
  minuteSeconds?: number;
}

/** One target of a task in one target group. */
export interface LbTarget {
  targetGroupArn: string;
  id: string;
  port: number;
}

/**
 * What the load balancer says about the service's targets, read by the controller before the
 * reconciliation: `tg|id|port` → ELBv2 state and reason. `checked: false` (no data plane running
 * health checks): registered targets count as healthy.
 */
export interface LbSnapshot {
  checked: boolean;
  health: ReadonlyMap<string, { state: string; reason?: string }>;
}

/** The target-group work a reconciliation leaves to the controller (it runs outside the transaction). */
export interface LbWork {
  register: LbTarget[];
  deregister: LbTarget[];
  /** Tasks to deregister, wait for their drain, then stop (finishDeregistration). */
  drains: { taskArn: string; targets: LbTarget[] }[];
  /** Listener forward weights a traffic-shifting deployment asks for (applied once the write commits). */
  traffic?: ForwardChange[];
}

export const lbKey = (t: LbTarget) => `${t.targetGroupArn}|${t.id}|${t.port}`;

interface LbRef {
  targetGroupArn?: string;
  containerName?: string;
  containerPort?: number;
}

/**
 * A task's targets, as ECS registers them: the container instance's EC2 id and the host port for
 * bridge/host networking, the task's IP and the container port for awsvpc (target type ip).
 */
export function taskTargets(task: TaskDoc, refs: readonly LbRef[], instanceIds: ReadonlyMap<string, string>): LbTarget[] {
  const out: LbTarget[] = [];
  for (const ref of refs) {
    if (!ref.targetGroupArn || !ref.containerName || ref.containerPort === undefined) continue;
    const container = task.containers.find((ct) => ct.name === ref.containerName) as
      | { networkBindings?: { containerPort?: number; hostPort?: number }[]; networkInterfaces?: { privateIpv4Address?: string }[] }
      | undefined;
    const ip = container?.networkInterfaces?.[0]?.privateIpv4Address;
    if (ip) {
      out.push({ targetGroupArn: ref.targetGroupArn, id: ip, port: ref.containerPort });
      continue;
    }
    const binding = container?.networkBindings?.find((b) => b.containerPort === ref.containerPort && b.hostPort);
    const instance = task.placedOn ? instanceIds.get(task.placedOn) : undefined;
    if (binding?.hostPort && instance) out.push({ targetGroupArn: ref.targetGroupArn, id: instance, port: binding.hostPort });
  }
  return out;
}

/** Registered and not draining (a target group no listener uses reports its targets `unused` with Target.NotInUse). */
export const registered = (snap: LbSnapshot | undefined, t: LbTarget) => {
  const h = snap?.health.get(lbKey(t));
  return h !== undefined && h.state !== 'draining' && !(h.state === 'unused' && h.reason === 'Target.NotRegistered');
};

export function lbHealthOf(targets: readonly LbTarget[], snap: LbSnapshot | undefined, wanted: number): TaskLbHealth {
  if (targets.length < wanted) return { state: 'initial' };
  let all = true;
  for (const t of targets) {
    const h = snap?.health.get(lbKey(t));
    if (!h || !registered(snap, t)) {
      all = false;
      continue;
    }
    if (!snap!.checked) continue;
    if (h.state === 'unhealthy') {
      return { state: 'unhealthy', unhealthy: { targetGroupArn: t.targetGroupArn, port: t.port, instance: t.id.startsWith('i-') ? t.id : undefined, reason: h.reason === 'Target.Timeout' ? 'Request timed out' : 'Health checks failed' } };
    }
    if (h.state !== 'healthy' && h.state !== 'unavailable') all = false;
  }
  return { state: all ? 'healthy' : 'initial' };
}

const TASKS_PER_EVENT = 10;
const TROUBLESHOOTING = 'For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.';
const taskId = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const listed = (arns: readonly string[]) => arns.map((a) => `(task ${taskId(a)})`).join(' ');

/** ECS's events naming tasks, at most TASKS_PER_EVENT to an event: `line(count, "(task …) (task …)")` for each. */
export function taskEvents(arns: readonly string[], line: (count: number, tasks: string) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < arns.length; i += TASKS_PER_EVENT) {
    const chunk = arns.slice(i, i + TASKS_PER_EVENT);
    out.push(line(chunk.length, listed(chunk)));
  }
  return out;
}

/** What a scheduler failure reason means, in the words of ECS's service events. */
const CLOSEST_MATCH: Record<string, string> = {
  'RESOURCE:MEMORY': 'has insufficient memory available',
  'RESOURCE:CPU': 'has insufficient CPU units available',
  'RESOURCE:PORTS': 'is already using a port required by your task',
  'RESOURCE:PORTS_UDP': 'is already using a port required by your task',
  AGENT: 'encountered error "AGENT"',
  ATTRIBUTE: 'is missing an attribute required by your task',
};

export function unableToPlace(service: string, failures: readonly PlacementFailure[], reason?: string): string {
  const head = `(service ${service}) was unable to place a task because no container instance met all of its requirements.`;
  if (reason !== undefined || failures.length === 0) return `${head} Reason: ${reason ?? 'No Container Instances were found in your cluster.'} ${TROUBLESHOOTING}`;
  const f = failures[0]!;
  const what = CLOSEST_MATCH[f.reason] ?? `does not satisfy the task's placement constraints (${f.reason})`;
  return `${head} The closest matching (container-instance ${taskId(f.arn ?? '')}) ${what}. ${TROUBLESHOOTING}`;
}

/** Failures that mean "this instance is not for this task" (DAEMON services skip such instances quietly). */
const NOT_ELIGIBLE = new Set(['ATTRIBUTE', 'MemberOf placement constraint unsatisfied.', 'DistinctInstance placement constraint unsatisfied.']);

export class ServiceScheduler {
  private readonly maxStarts: number;
  private readonly maxBackoff: number;
  /** Services with the EXTERNAL deployment controller: their task sets' tasks. */
  private readonly taskSets: TaskSetScheduler;
  private readonly minuteSeconds: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tasks: Tasks,
    opts: ServiceSchedulerOptions = {},
  ) {
    this.maxStarts = opts.maxStartsPerPass ?? 500;
    this.maxBackoff = opts.maxBackoffSeconds ?? 30;
    this.taskSets = new TaskSetScheduler(tasks, this.maxStarts, this.maxBackoff);
    this.minuteSeconds = opts.minuteSeconds ?? 60;
  }

  /** The services the scheduler looks after: ACTIVE and DRAINING ones, with their cluster and name. */
  async services(): Promise<{ arn: string; cluster: string; name: string }[]> {
    const rows = await this.store.read((tx) => tx.select(c.services, ['cluster', 'name'], { where: { status: { in: ['ACTIVE', 'DRAINING'] } } }));
    return rows.map((r) => ({ arn: r.pk, cluster: String(r.cluster), name: String(r.name) }));
  }

  /**
   * Reconciles one service. Answers when it wants another look even if nothing changes (epoch
   * seconds: a placement retry, a health-check grace period ending), or undefined.
   */
  /** The service's target groups (what the controller reads health for before reconciling). */
  async targetGroupsOf(serviceArn: string): Promise<{ scope: { accountId: string; region: string }; targetGroupArns: string[] } | undefined> {
    const [doc, setGroups] = await this.store.read(async (tx) => [(await tx.get(c.services, serviceArn))?.data as ServiceRecord | undefined, await this.taskSets.targetGroupArns(tx, serviceArn)] as const);
    if (!doc) return undefined;
    const arns = new Set<string>(setGroups);
    for (const refs of [doc.loadBalancers, ...doc.deployments.map((d) => d.lbRefs ?? d.loadBalancers)]) for (const r of (refs ?? []) as LbRef[]) if (r.targetGroupArn) arns.add(r.targetGroupArn);
    return arns.size ? { scope: { accountId: doc.accountId, region: doc.region }, targetGroupArns: [...arns] } : undefined;
  }

  /** A deregistered task's targets have drained: now it stops. */
  async finishDeregistration(taskArn: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get(c.tasks, taskArn);
      const reason = row?.data.lbStopReason;
      if (row && typeof reason === 'string') await requestStop(tx, row, reason, this.clock.now(), 'ServiceSchedulerInitiated');
    });
  }

  async reconcile(serviceArn: string, decide: DecideService, lb?: LbSnapshot): Promise<{ wakeAt?: number; lb?: LbWork }> {
    return this.store.write(async (tx) => {
      const row = (await tx.get(c.services, serviceArn)) as Row<ServiceRecord> | undefined;
      if (!row || row.data.status === 'INACTIVE') return {};
      const now = this.clock.now();
      if (isExternal(row.data)) return this.taskSets.reconcile(tx, row, lb, now);
      const doc = structuredClone(row.data);
      const before = JSON.stringify(doc);
      const clusterRow = await tx.get(c.clusters, doc.clusterArn);
      if (!clusterRow) return {};
      const cluster = clusterRow.data as ClusterRecord;
      const instances = (await tx.select(c.containerInstances, ['status'], { where: { cluster: doc.clusterArn, status: { in: ['ACTIVE', 'DRAINING'] } } })).map((r) => ({
        arn: r.pk,
        status: String(r.status),
      }));
      const taskRows = await tx.find(c.tasks, { where: { service_open: `${doc.clusterArn}|${doc.serviceName}` } });
      const byArn = new Map(taskRows.map((r) => [r.pk, r]));
      // Load balancing: each task's targets (from its own deployment's loadBalancers) and their health.
      const balanced = doc.deployments.some((d) => (d.loadBalancers?.length ?? 0) > 0);
      const targetsOf = new Map<string, LbTarget[]>();
      const lbOf = new Map<string, TaskLbHealth>();
      const work: LbWork = { register: [], deregister: [], drains: [] };
      if (balanced) {
        const instanceIds = await instanceIdsOf(tx, doc.clusterArn);
        for (const t of taskRows) {
          const mine = doc.deployments.find((d) => d.id === t.data.startedBy);
          const refs = ((mine?.lbRefs ?? mine?.loadBalancers ?? doc.loadBalancers ?? []) as LbRef[]);
          const targets = taskTargets(t.data, refs, instanceIds);
          targetsOf.set(t.pk, targets);
          lbOf.set(t.pk, lbHealthOf(targets, lb, refs.length));
          noteLbWork(t.data, targets, lb, work);
        }
      }
      const taskInputs = taskRows.map((r) => ({ ...taskInput(r.data), lb: lbOf.get(r.pk), lbStopping: typeof r.data.lbStopReason === 'string' }));
      // A BLUE_GREEN, LINEAR or CANARY deployment in progress: its stage says what the scheduler may do.
      const head = doc.deployments[0];
      const shift =
        head?.shift && head.rolloutState === 'IN_PROGRESS' && doc.status === 'ACTIVE'
          ? decideShift({
              service: doc.serviceName,
              deploymentId: head.id,
              state: head.shift,
              plan: shiftPlanOf(doc.deploymentConfiguration, this.minuteSeconds),
              desiredCount: doc.desiredCount,
              readyCount: readyCount(taskInputs, head.id, head.healthChecked),
              now,
            })
          : undefined;
      // A traffic-shifting deployment that failed without rolling back (ABORT, circuit breaker or alarm without rollback) stays where it was.
      const frozen = head?.shift && head.rolloutState === 'FAILED' && head.shift.stage !== 'CLEAN_UP' && doc.status === 'ACTIVE';
      if (shift && head) {
        await applyShift(tx, head, shift, now);
        work.traffic = shift.traffic;
      }
      const decision = decide(
        { ...serviceInput(doc), loadBalanced: balanced, hold: shift ? { starts: shift.holdStarts, retired: shift.holdRetired } : frozen ? { starts: true, retired: true } : undefined },
        taskInputs,
        instances,
        now,
      );
      const events = [...(shift?.events ?? []), ...decision.events];

      for (const arn of decision.seen) await markSeenByService(tx, byArn.get(arn)!);
      const stopped: string[] = [];
      for (const s of decision.stops) {
        await stopServiceTask(tx, byArn.get(s.arn)!, targetsOf.get(s.arn) ?? [], lb, s.reason, now, work);
        stopped.push(s.arn);
      }
      events.push(...taskEvents(stopped, (n, tasks) => `(service ${doc.serviceName}) has stopped ${n} running tasks: ${tasks}.`));

      // Deployments: counts and rollout states as decided; those without tasks are over.
      const outcomes = new Map(decision.deployments.map((d) => [d.id, d]));
      const kept: DeploymentRecord[] = [];
      for (const d of doc.deployments) {
        const o = outcomes.get(d.id);
        if (!o) continue;
        if (!o.live) continue;
        const next: DeploymentRecord = { ...d, runningCount: o.runningCount, pendingCount: o.pendingCount, desiredCount: o.desiredCount, failedTasks: o.failedTasks };
        if (o.rolloutState !== d.rolloutState) {
          next.rolloutState = o.rolloutState;
          // A rollback keeps saying what it rolled back to, as ECS shows it.
          next.rolloutStateReason = d.rollbackOf && o.rolloutState === 'COMPLETED' ? d.rolloutStateReason : (o.rolloutStateReason ?? d.rolloutStateReason);
          next.updatedAt = now;
          if (o.rolloutState === 'COMPLETED') {
            doc.lastCompleted = structuredClone(next);
            await finishServiceDeployment(tx, d.serviceDeploymentArn, d.rollbackOf ? 'ROLLBACK_SUCCESSFUL' : 'SUCCESSFUL', now);
          }
        }
        if (JSON.stringify(next) !== JSON.stringify(d)) next.updatedAt = now;
        kept.push(next);
      }
      doc.deployments = kept;
      if (doc.schedulingStrategy === 'DAEMON' && doc.status === 'ACTIVE') doc.desiredCount = decision.desiredCount;
      doc.runningCount = decision.runningCount;
      doc.pendingCount = decision.pendingCount;
      doc.steady = decision.steady;

      if (decision.tripped) await this.trip(tx, doc, decision.rollbackTo, now);
      // A PAUSE hook timed out with action ROLLBACK.
      else if (shift?.rollback && (await rollBackShift(tx, doc, shift.rollback, now))) events.push(`(service ${doc.serviceName}) rolling back to deployment ${doc.deployments[0]!.id}.`);
      else {
        // Deployment alarms (deploymentConfiguration.alarms) watched while the PRIMARY is in progress.
        const alarm = doc.status === 'ACTIVE' ? await alarmInAlarm(tx, doc) : undefined;
        if (alarm) events.push(...(await failOnAlarm(tx, doc, alarm, now)));
      }

      // Starts, through RunTask's placement path.
      const primary = doc.deployments[0];
      let wakeAt: number | undefined;
      const wanted = doc.schedulingStrategy === 'DAEMON' ? decision.startOn.length : decision.startCount;
      if (!decision.tripped && primary && primary.id === decision.startDeployment && wanted > 0) {
        if (doc.placementRetryAt !== undefined && now < doc.placementRetryAt) {
          wakeAt = doc.placementRetryAt;
        } else {
          const result = await placeServiceTasks(this.tasks, tx, doc, cluster, primary, decision.startCount, this.maxStarts, decision.startOn);
          events.push(...taskEvents(result.started, (n, tasks) => `(service ${doc.serviceName}) has started ${n} tasks: ${tasks}.`));
          primary.pendingCount += result.started.length;
          doc.pendingCount += result.started.length;
          if (result.failure) {
            events.push(result.failure);
            doc.placementAttempts = (doc.placementAttempts ?? 0) + 1;
            doc.placementRetryAt = now + Math.min(this.maxBackoff, 2 ** (doc.placementAttempts - 1));
            wakeAt = doc.placementRetryAt;
          } else {
            doc.placementAttempts = 0;
            doc.placementRetryAt = undefined;
          }
          if (result.started.length > 0) doc.steady = false;
        }
      }
      if (decision.inactive) doc.status = 'INACTIVE';
      addEvents(doc, events, now);
      for (const t of taskRows) {
        // A grace period that ends with the task still UNHEALTHY needs a look then.
        const grace = doc.healthCheckGracePeriodSeconds ?? 0;
        if (t.data.healthStatus === 'UNHEALTHY' && typeof t.data.startedAt === 'number' && t.data.startedAt + grace > now) {
          wakeAt = Math.min(wakeAt ?? Infinity, t.data.startedAt + grace);
        }
      }
      if (JSON.stringify(doc) !== before) await tx.update(c.services, row, doc);
      // Target health lives outside the store: a load-balanced service looks again within a second.
      if (balanced) wakeAt = Math.min(wakeAt ?? Infinity, now + 1);
      if (shift?.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, shift.wakeAt);
      return { wakeAt, lb: balanced ? work : undefined };
    });
  }

  /** The circuit breaker tripped: the PRIMARY failed; roll back to the last COMPLETED deployment when asked to. */
  private async trip(tx: StoreTx, doc: ServiceRecord, rollbackTo: string | undefined, now: number): Promise<void> {
    const failed = doc.deployments[0]!;
    // A traffic-shifting deployment returns to the tasks it was replacing, traffic first (rollBackShift updates the history row, so it is read after).
    const shiftedBack = rollbackTo ? await rollBackShift(tx, doc, `ECS deployment circuit breaker: rolling back to deploymentId ${doc.deployments[1]?.id}.`, now) : false;
    const history = await tx.get(c.serviceDeployments, failed.serviceDeploymentArn);
    if (history) {
      await tx.update(c.serviceDeployments, history, {
        ...history.data,
        deploymentCircuitBreaker: { ...(history.data.deploymentCircuitBreaker as object), status: 'TRIGGERED', failureCount: failed.failedTasks },
        updatedAt: now,
      });
    }
    if (shiftedBack) return;
    const target = doc.lastCompleted;
    if (rollbackTo && target && target.id === rollbackTo) {
      const tdRow = await tx.get(c.taskDefinitions, target.taskDefinition);
      if (tdRow) {
        const reason = `ECS deployment circuit breaker: rolling back to deploymentId ${target.id}.`;
        const next = await startDeployment(tx, doc, tdRow.data as TaskDefinitionRecord, target, now, { serviceDeploymentArn: failed.serviceDeploymentArn, reason });
        next.rollbackOf = failed.id;
        return;
      }
    }
    await finishServiceDeployment(tx, failed.serviceDeploymentArn, 'STOPPED', now, 'ECS deployment circuit breaker: tasks failed to start.');
  }

}

/**
 * Starts `count` tasks of `source` (a deployment, or an EXTERNAL service's task set), at most
 * `maxStarts` in one pass; a DAEMON service's one on each instance of `on`. What cannot be placed
 * comes back as the service event `failure`.
 */
export async function placeServiceTasks(
  tasks: Tasks,
  tx: StoreTx,
  doc: ServiceRecord,
  cluster: ClusterRecord,
  source: Parameters<typeof serviceTaskInput>[2] & { taskDefinition: string },
  count: number,
  maxStarts: number,
  on: readonly string[] = [],
): Promise<{ started: string[]; failure?: string }> {
  const tdRow = await tx.get(c.taskDefinitions, source.taskDefinition);
  if (!tdRow) return { started: [], failure: unableToPlace(doc.serviceName, [], `Unable to find task definition ${source.taskDefinition}.`) };
  const td = tdRow.data as TaskDefinitionRecord;
  const scope = { accountId: doc.accountId, region: doc.region };
  const input = serviceTaskInput(doc, td, source);
  const started: string[] = [];
  let failure: string | undefined;
  try {
    if (doc.schedulingStrategy === 'DAEMON') {
      for (const instance of on.slice(0, maxStarts)) {
        const r = await tasks.place(tx, scope, cluster, td, { ...input, placementStrategy: undefined, count: 1, onInstance: instance });
        started.push(...r.tasks.map((t: TaskDoc) => t.taskArn));
        const f = r.failures.filter((x) => !NOT_ELIGIBLE.has(x.reason));
        if (f.length > 0 && failure === undefined) failure = unableToPlace(doc.serviceName, f);
      }
    } else {
      const n = Math.min(count, maxStarts);
      const r = await tasks.place(tx, scope, cluster, td, { ...input, count: n });
      started.push(...r.tasks.map((t: TaskDoc) => t.taskArn));
      if (r.tasks.length < n) failure = unableToPlace(doc.serviceName, r.failures);
    }
  } catch (e) {
    // Placement input the scheduler refuses (no instance at all, no Fargate capacity…) is an event, not an error.
    if (!(e instanceof AwsError)) throw e;
    failure = unableToPlace(doc.serviceName, [], e.message);
  }
  return { started, failure };
}

/**
 * What the service's tasks are placed with (Tasks.place, without the count): the launch settings
 * of `source` (a deployment, or a task set for EXTERNAL services), the service's placement, group,
 * tags, and `startedBy` the source's id.
 */
export function serviceTaskInput(
  doc: ServiceRecord,
  td: TaskDefinitionRecord,
  source: { id: string; launchType?: string; capacityProviderStrategy?: unknown; platformVersion?: string; networkConfiguration?: unknown },
) {
  return {
    taskDefinition: td.taskDefinitionArn,
    group: `service:${doc.serviceName}`,
    startedBy: source.id,
    serviceName: doc.serviceName,
    launchType: source.launchType as never,
    capacityProviderStrategy: source.capacityProviderStrategy as never,
    platformVersion: source.platformVersion,
    networkConfiguration: source.networkConfiguration as never,
    placementConstraints: doc.placementConstraints as never,
    placementStrategy: (doc.placementStrategy.length ? doc.placementStrategy : SERVICE_DEFAULT_STRATEGY) as never,
    enableExecuteCommand: doc.enableExecuteCommand,
    tags: serviceTaskTags(doc, td),
  };
}

/** The tags a service's task gets: propagated from the service or its task definition, and ECS's managed tags. */
export function serviceTaskTags(doc: ServiceRecord, td: TaskDefinitionRecord): { key?: string; value?: string }[] {
  return [
    ...(doc.propagateTags === 'SERVICE' ? doc.tags : doc.propagateTags === 'TASK_DEFINITION' ? ((td.tags as { key?: string; value?: string }[] | undefined) ?? []) : []),
    ...(doc.enableECSManagedTags
      ? [
          { key: 'aws:ecs:serviceName', value: doc.serviceName },
          { key: 'aws:ecs:clusterName', value: clusterNameOf(doc.clusterArn) },
        ]
      : []),
  ];
}

/** The cluster's container instances' EC2 ids (a bridge/host task's target id). */
export async function instanceIdsOf(tx: StoreTx, clusterArn: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of await tx.find(c.containerInstances, { where: { cluster: clusterArn } })) {
    const id = (r.data as { ec2InstanceId?: string }).ec2InstanceId;
    if (id) out.set(r.pk, id);
  }
  return out;
}

/** What the load balancer must do for one of the service's tasks: register it RUNNING, deregister it stopping, or finish its drain. */
export function noteLbWork(task: TaskDoc, targets: readonly LbTarget[], lb: LbSnapshot | undefined, work: LbWork): void {
  const stopping = task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED' || ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING'].includes(task.lastStatus);
  if (stopping) work.deregister.push(...targets.filter((x) => registered(lb, x)));
  else if (typeof task.lbStopReason === 'string') work.drains.push({ taskArn: task.taskArn, targets: [...targets] });
  else if (task.lastStatus === 'RUNNING') work.register.push(...targets.filter((x) => !registered(lb, x)));
}

/** The scheduler stops a task: behind a load balancer it is deregistered first and stops once its targets have drained. */
export async function stopServiceTask(tx: StoreTx, task: Row<TaskDoc>, targets: readonly LbTarget[], lb: LbSnapshot | undefined, reason: string, now: number, work: LbWork): Promise<void> {
  const live = targets.filter((x) => registered(lb, x));
  if (live.length > 0 && task.data.lastStatus === 'RUNNING') {
    await markDeregistering(tx, task, reason);
    work.drains.push({ taskArn: task.pk, targets: live });
  } else {
    await requestStop(tx, task, reason, now, 'ServiceSchedulerInitiated');
  }
}

function serviceInput(doc: ServiceRecord): ServiceInput {
  const primary = doc.deployments[0];
  const cb = doc.deploymentConfiguration.deploymentCircuitBreaker;
  return {
    name: doc.serviceName,
    status: doc.status === 'DRAINING' ? 'DRAINING' : 'ACTIVE',
    schedulingStrategy: doc.schedulingStrategy,
    desiredCount: doc.desiredCount,
    minimumHealthyPercent: doc.deploymentConfiguration.minimumHealthyPercent,
    maximumPercent: doc.deploymentConfiguration.maximumPercent,
    circuitBreaker: { enable: cb?.enable ?? false, rollback: cb?.rollback ?? false },
    healthCheckGracePeriodSeconds: doc.healthCheckGracePeriodSeconds ?? 0,
    deployments: doc.deployments.map((d) => ({ id: d.id, rolloutState: d.rolloutState, healthChecked: d.healthChecked, failedTasks: d.failedTasks })),
    rollbackTarget: doc.lastCompleted && doc.lastCompleted.id !== primary?.id ? doc.lastCompleted.id : undefined,
    steady: doc.steady,
  };
}

function taskInput(t: TaskDoc): ServiceTaskInput {
  return {
    arn: t.taskArn,
    deploymentId: t.startedBy ?? '',
    instanceArn: t.placedOn ?? '',
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: t.healthStatus as string | undefined,
    startedAt: typeof t.startedAt === 'number' ? t.startedAt : undefined,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    seen: t.serviceSeen === true,
  };
}
