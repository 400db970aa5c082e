/**
 * The ECS service scheduler's decisions, as a pure function: (a service, its open tasks, the
 * cluster's instances, now) → which tasks to stop, how many to start for which deployment, which
 * stopped tasks it has now accounted for, the deployments' new states and the events to record.
 * The service controller (src/controllers/) calls it inside one write transaction and applies
 * the result through the ECS domain; placement itself stays with schedule().
 *
 * The rules are ECS's ("Deploy Amazon ECS services by replacing tasks", "How the Amazon ECS
 * deployment circuit breaker detects failures", "Daemon" scheduling in the developer guide):
 * - a REPLICA service keeps `desiredCount` tasks of its PRIMARY deployment on ACTIVE instances;
 * - every other live task (older deployment, or on a DRAINING / departed instance) is retired:
 *   replacements start first within maximumPercent (of desiredCount, rounded DOWN), and retired
 *   tasks stop only while the healthy tasks stay at or above minimumHealthyPercent (rounded UP);
 * - a task whose container health check is UNHEALTHY after the grace period is replaced;
 * - tasks of the PRIMARY deployment that stop on their own (or are replaced as unhealthy) count
 *   as failures; the circuit breaker trips at min(200, max(3, ceil(0.5 × desiredCount))) and,
 *   with rollback, returns to the last COMPLETED deployment;
 * - a DAEMON service keeps one PRIMARY task on every ACTIVE instance.
 */

/** minimumHealthyPercent / maximumPercent → task counts, rounded as ECS rounds them. */
export function deploymentBounds(desiredCount: number, minimumHealthyPercent: number, maximumPercent: number): { minHealthy: number; maxTotal: number } {
  // Integer arithmetic: 3 × 33% must not become 0.99 → 1 through floating point.
  return { minHealthy: Math.ceil((desiredCount * minimumHealthyPercent) / 100), maxTotal: Math.floor((desiredCount * maximumPercent) / 100) };
}

/** ECS's circuit-breaker threshold: half the desired count, at least 3 and at most 200. */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount * 0.5)));
}

export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface DeploymentInput {
  id: string;
  rolloutState: RolloutState;
  /** Its task definition has a container health check: its tasks are healthy only once HEALTHY. */
  healthChecked: boolean;
  failedTasks: number;
}

export interface ServiceInput {
  name: string;
  status: 'ACTIVE' | 'DRAINING';
  schedulingStrategy: 'REPLICA' | 'DAEMON';
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  circuitBreaker: { enable: boolean; rollback: boolean };
  healthCheckGracePeriodSeconds: number;
  /** PRIMARY first, then older ones. */
  deployments: readonly DeploymentInput[];
  /** The last COMPLETED deployment, when it is not the PRIMARY (the rollback target). */
  rollbackTarget?: string;
  /** The service was at steady state after the previous decision. */
  steady: boolean;
  /** The service has loadBalancers: its tasks are healthy only once every target is healthy in its target group. */
  loadBalanced?: boolean;
  /** A traffic-shifting deployment (deployment-strategies.ts) holds: no starts yet, and/or the old tasks kept. */
  hold?: { starts: boolean; retired: boolean };
}

/** A task's targets as its target groups see them (aggregated: any unhealthy → unhealthy; all healthy → healthy). */
export interface TaskLbHealth {
  state: 'healthy' | 'unhealthy' | 'initial';
  /** The first unhealthy target: what the event names. */
  unhealthy?: { targetGroupArn: string; port: number; instance?: string; reason: string };
}

export interface ServiceTaskInput {
  arn: string;
  /** startedBy: the deployment that started it. */
  deploymentId: string;
  instanceArn: string;
  lastStatus: string;
  desiredStatus: string;
  healthStatus?: string;
  /** Epoch seconds, once RUNNING. */
  startedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  /** Stopped, and already accounted for by an earlier decision. */
  seen: boolean;
  lb?: TaskLbHealth;
  /** Being deregistered from its target groups before it stops (draining): no longer counted. */
  lbStopping?: boolean;
}

export interface InstanceInput {
  arn: string;
  status: string;
}

export interface TaskStop {
  arn: string;
  reason: string;
}

export interface DeploymentOutcome {
  id: string;
  rolloutState: RolloutState;
  /** Set when the state changed in this decision. */
  rolloutStateReason?: string;
  failedTasks: number;
  runningCount: number;
  pendingCount: number;
  desiredCount: number;
  /** false: no task of it remains; the deployment is over (INACTIVE). */
  live: boolean;
}

export interface ServiceDecision {
  stops: TaskStop[];
  /** REPLICA: how many tasks the PRIMARY deployment should start (placed by schedule()). */
  startCount: number;
  /** DAEMON: the ACTIVE instances that should each get one PRIMARY task. */
  startOn: string[];
  /** The deployment new tasks belong to. */
  startDeployment?: string;
  /** Stopped tasks accounted for now. */
  seen: string[];
  deployments: DeploymentOutcome[];
  events: string[];
  /** The circuit breaker tripped on the PRIMARY: roll back to this deployment (when rollback is on). */
  rollbackTo?: string;
  tripped: boolean;
  steady: boolean;
  /** A deleted (DRAINING) service with no task left: it becomes INACTIVE. */
  inactive: boolean;
  runningCount: number;
  pendingCount: number;
  /** DAEMON: the service's desired count is the number of ACTIVE instances. */
  desiredCount: number;
}

/** Stop codes of stops nobody asked for: they count against the deployment. */
const FAILURE_STOP_CODES = new Set(['TaskFailedToStart', 'EssentialContainerExited']);
export const UNHEALTHY_STOP_REASON = 'Task failed container health checks';
export const ELB_UNHEALTHY_STOP_REASON = (targetGroupArn: string) => `Task failed ELB health checks in (target-group ${targetGroupArn})`;
export const DRAINING_STOP_REASON = 'Container instance is draining';
/** Why a task is stopped to scale a deployment (or a task set) in. */
export const SCALING_STOP_REASON = (deploymentId: string | undefined) => `Scaling activity initiated by (deployment ${deploymentId ?? 'unknown'})`;
export const TASK_ID = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** ECS's events for a task replaced as unhealthy; `svc` is the event's subject, `(service web)` or `(service web, taskSet ecs-svc/…)`. */
export const containerUnhealthyEvent = (svc: string, taskArn: string) => `${svc} (task ${TASK_ID(taskArn)}) failed container health checks.`;
export const targetUnhealthyEvent = (svc: string, bad: NonNullable<TaskLbHealth['unhealthy']>) =>
  `${svc}${bad.instance ? ` (instance ${bad.instance})` : ''} (port ${bad.port}) is unhealthy in (target-group ${bad.targetGroupArn}) due to (reason ${bad.reason}).`;
export const steadyStateEvent = (svc: string) => `${svc} has reached a steady state.`;
/** Health checks count once the service's grace period since the task started is over. */
export const gracePeriodOver = (startedAt: number | undefined, graceSeconds: number, now: number) => startedAt === undefined || now >= startedAt + graceSeconds;

const isLive = (t: ServiceTaskInput) => t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED' && !t.lbStopping;

export function decideService(service: ServiceInput, tasks: readonly ServiceTaskInput[], instances: readonly InstanceInput[], now: number): ServiceDecision {
  const svc = `(service ${service.name})`;
  const events: string[] = [];
  const stops: TaskStop[] = [];
  const seen: string[] = [];
  const primary = service.deployments[0];
  const failures = new Map<string, number>();
  const deploymentOf = new Map(service.deployments.map((d) => [d.id, d]));

  // 1. Tasks that stopped since the last decision: account for them once; unasked stops are failures.
  for (const t of tasks) {
    if (t.lastStatus !== 'STOPPED' || t.seen) continue;
    seen.push(t.arn);
    const failed =
      (t.stopCode !== undefined && FAILURE_STOP_CODES.has(t.stopCode)) || t.stoppedReason === UNHEALTHY_STOP_REASON || (t.stoppedReason?.startsWith('Task failed ELB health checks') ?? false);
    if (t.stopCode !== undefined && FAILURE_STOP_CODES.has(t.stopCode)) {
      events.push(`${svc} (task ${TASK_ID(t.arn)}) stopped unexpectedly: ${t.stoppedReason ?? t.stopCode}.`);
    }
    if (failed) failures.set(t.deploymentId, (failures.get(t.deploymentId) ?? 0) + 1);
  }

  const activeInstances = new Set(instances.filter((i) => i.status === 'ACTIVE').map((i) => i.arn));
  const live = tasks.filter(isLive);
  const stopping = new Set<string>();
  const stop = (t: ServiceTaskInput, reason: string) => {
    if (stopping.has(t.arn)) return;
    stopping.add(t.arn);
    stops.push({ arn: t.arn, reason });
  };
  // Behind a load balancer a task counts as healthy only once the load balancer says so.
  const healthy = (t: ServiceTaskInput) =>
    !stopping.has(t.arn) &&
    t.lastStatus === 'RUNNING' &&
    (deploymentOf.get(t.deploymentId)?.healthChecked ? t.healthStatus === 'HEALTHY' : t.healthStatus !== 'UNHEALTHY') &&
    (!service.loadBalanced || t.lb?.state === 'healthy');
  let tripped = false;
  let rollbackTo: string | undefined;

  // 2. A deleted service stops everything; it is INACTIVE once nothing of it is left.
  if (service.status === 'DRAINING') {
    for (const t of live) stop(t, SCALING_STOP_REASON(primary?.id));
    const remaining = tasks.filter((t) => t.lastStatus !== 'STOPPED').length;
    return finish({ startCount: 0, startOn: [], inactive: remaining === 0 && live.length === 0, desired: 0 });
  }

  // 3. Container health: UNHEALTHY after the grace period → replaced, and a failure of its deployment.
  for (const t of live) {
    if (t.healthStatus !== 'UNHEALTHY' || t.lastStatus !== 'RUNNING') continue;
    if (!gracePeriodOver(t.startedAt, service.healthCheckGracePeriodSeconds, now)) continue;
    stop(t, UNHEALTHY_STOP_REASON);
    events.push(containerUnhealthyEvent(svc, t.arn));
  }
  // ... and so is one whose target the load balancer finds unhealthy after the grace period.
  for (const t of live) {
    const bad = t.lb?.state === 'unhealthy' ? t.lb.unhealthy : undefined;
    if (!bad || t.lastStatus !== 'RUNNING' || stopping.has(t.arn)) continue;
    if (!gracePeriodOver(t.startedAt, service.healthCheckGracePeriodSeconds, now)) continue;
    stop(t, ELB_UNHEALTHY_STOP_REASON(bad.targetGroupArn));
    events.push(targetUnhealthyEvent(svc, bad));
  }

  // 4. The circuit breaker watches the PRIMARY while its rollout is in progress.
  const desired = service.schedulingStrategy === 'DAEMON' ? activeInstances.size : service.desiredCount;
  const primaryFailures = primary ? primary.failedTasks + (failures.get(primary.id) ?? 0) : 0;
  if (primary && primary.rolloutState === 'IN_PROGRESS' && service.circuitBreaker.enable && primaryFailures >= circuitBreakerThreshold(desired)) {
    tripped = true;
    events.push(`${svc} (deployment ${primary.id}) deployment failed: tasks failed to start.`);
    if (service.circuitBreaker.rollback && service.rollbackTarget) {
      rollbackTo = service.rollbackTarget;
      events.push(`${svc} rolling back to deployment ${rollbackTo}.`);
    }
  }
  const launching = primary !== undefined && !tripped && primary.rolloutState !== 'FAILED';

  let startCount = 0;
  const startOn: string[] = [];
  if (service.schedulingStrategy === 'DAEMON') {
    // One PRIMARY task per ACTIVE instance; tasks elsewhere, extra or of older deployments go.
    const { minHealthy } = deploymentBounds(desired, service.minimumHealthyPercent, service.maximumPercent);
    const byInstance = new Map<string, ServiceTaskInput[]>();
    for (const t of live) if (!stopping.has(t.arn)) byInstance.set(t.instanceArn, [...(byInstance.get(t.instanceArn) ?? []), t]);
    const occupied = new Set(tasks.filter((t) => t.lastStatus !== 'STOPPED').map((t) => t.instanceArn));
    let healthyLeft = live.filter(healthy).length;
    for (const [instance, list] of byInstance) {
      if (!activeInstances.has(instance)) {
        for (const t of list) stop(t, DRAINING_STOP_REASON);
        continue;
      }
      const current = list.filter((t) => t.deploymentId === primary?.id);
      for (const t of current.slice(1)) stop(t, SCALING_STOP_REASON(primary?.id));
      for (const t of list.filter((x) => x.deploymentId !== primary?.id)) {
        if (current.length > 0 || !healthy(t)) stop(t, SCALING_STOP_REASON(primary?.id));
        else if (launching && healthyLeft - 1 >= minHealthy) {
          healthyLeft -= 1;
          stop(t, SCALING_STOP_REASON(primary?.id));
        }
      }
    }
    if (launching) for (const arn of activeInstances) if (!occupied.has(arn)) startOn.push(arn);
    startOn.sort();
  } else {
    const { minHealthy, maxTotal } = deploymentBounds(desired, service.minimumHealthyPercent, service.maximumPercent);
    const alive = live.filter((t) => !stopping.has(t.arn));
    const keep = alive.filter((t) => t.deploymentId === primary?.id && activeInstances.has(t.instanceArn));
    const retire = alive.filter((t) => !keep.includes(t));
    // Scale-in: surplus PRIMARY tasks go at once, those not yet running first.
    if (keep.length > desired) {
      const order = [...keep].sort((a, b) => Number(healthy(a)) - Number(healthy(b)) || b.arn.localeCompare(a.arn));
      for (const t of order.slice(0, keep.length - desired)) stop(t, SCALING_STOP_REASON(primary?.id));
    }
    const kept = Math.min(keep.length, desired);
    // Retired tasks that are not healthy do not count toward the minimum: they go at once.
    const retireReason = (t: ServiceTaskInput) => (activeInstances.has(t.instanceArn) ? SCALING_STOP_REASON(primary?.id) : DRAINING_STOP_REASON);
    const holdRetired = service.hold?.retired ?? false;
    for (const t of retire) if (!healthy(t) && !holdRetired) stop(t, retireReason(t));
    let healthyCount = alive.filter((t) => !stopping.has(t.arn) && healthy(t)).length;
    // Healthy retired tasks go oldest deployment first, while the healthy count stays ≥ the minimum.
    const rank = new Map(service.deployments.map((d, i) => [d.id, i]));
    const healthyRetire = retire.filter((t) => !stopping.has(t.arn)).sort((a, b) => (rank.get(b.deploymentId) ?? 1e9) - (rank.get(a.deploymentId) ?? 1e9) || a.arn.localeCompare(b.arn));
    for (const t of healthyRetire) {
      if (holdRetired || healthyCount - 1 < minHealthy) break;
      healthyCount -= 1;
      stop(t, retireReason(t));
    }
    if (launching && !service.hold?.starts) {
      const total = alive.filter((t) => !stopping.has(t.arn)).length;
      const remainingRetire = retire.filter((t) => !stopping.has(t.arn)).length;
      // Without anything to retire, the PRIMARY may always reach desiredCount.
      // A traffic-shifting deployment starts the new revision at full count beside the old one.
      const room = remainingRetire === 0 || holdRetired ? desired - kept : Math.min(desired - kept, maxTotal - total);
      startCount = Math.max(0, room);
    }
  }
  return finish({ startCount, startOn, inactive: false, desired });

  function finish(o: { startCount: number; startOn: string[]; inactive: boolean; desired: number }): ServiceDecision {
    const remaining = live.filter((t) => !stopping.has(t.arn));
    const outcomes: DeploymentOutcome[] = service.deployments.map((d, i) => {
      const mine = remaining.filter((t) => t.deploymentId === d.id);
      const stillStopping = tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED');
      return {
        id: d.id,
        rolloutState: d.rolloutState,
        failedTasks: d.failedTasks + (failures.get(d.id) ?? 0),
        runningCount: mine.filter((t) => t.lastStatus === 'RUNNING').length,
        pendingCount: mine.filter((t) => t.lastStatus !== 'RUNNING').length,
        desiredCount: i === 0 ? o.desired : mine.length,
        live: i === 0 || mine.length > 0 || stillStopping,
      };
    });
    const head = outcomes[0];
    if (head && tripped) {
      head.rolloutState = 'FAILED';
      head.rolloutStateReason = rollbackTo ? `ECS deployment circuit breaker: tasks failed to start. Rolling back to deploymentId ${rollbackTo}.` : 'ECS deployment circuit breaker: tasks failed to start.';
    }
    const others = outcomes.slice(1).filter((d) => d.live);
    const primaryDone =
      head !== undefined &&
      service.status === 'ACTIVE' &&
      others.length === 0 &&
      head.runningCount === o.desired &&
      head.pendingCount === 0 &&
      o.startCount === 0 &&
      o.startOn.length === 0 &&
      remaining.filter((t) => t.deploymentId === primary!.id).every(healthy);
    if (head && primaryDone && head.rolloutState === 'IN_PROGRESS') {
      head.rolloutState = 'COMPLETED';
      head.rolloutStateReason = `ECS deployment ${head.id} completed.`;
      events.push(`${svc} (deployment ${head.id}) deployment completed.`);
    }
    const steady = primaryDone && !tripped && stops.length === 0;
    if (steady && !service.steady) events.push(steadyStateEvent(svc));
    return {
      stops,
      startCount: o.startCount,
      startOn: o.startOn,
      startDeployment: primary?.id,
      seen,
      deployments: outcomes,
      events,
      rollbackTo,
      tripped,
      steady,
      inactive: o.inactive,
      runningCount: outcomes.reduce((n, d) => n + d.runningCount, 0),
      pendingCount: outcomes.reduce((n, d) => n + d.pendingCount, 0),
      desiredCount: o.desired,
    };
  }
}
