/**
 * The one writer of task documents. Every transition of a task goes through here, whichever
 * API asks for it: creation (RunTask/StartTask), the stop a user asks for (StopTask) and the
 * progress an agent reports (agent API), so the lifecycle rules live in one place:
 *
 * - lastStatus and container statuses only move forward, in ECS's order;
 * - a stop keeps its first stopCode and reason (the user's, or the agent's when it stopped first);
 * - the agent's own stop (essential container exited, failed to start) sets desiredStatus STOPPED;
 * - first timestamps win; every change bumps `version`.
 *
 * Deregistering a container instance writes no task: ECS leaves the tasks of a force-deregistered
 * instance as they are, and their agent (if any) still reports their end. A state reset wipes the
 * collection as a whole (store.clear). Who may report what (an agent's credential speaks only for
 * the tasks placed on its instance) is the agent API's check, made before it calls in here.
 */
import { hexId } from '../../core/ids.js';
import { containerStatusRank, taskStatusRank, type TaskReport } from '../../protocol/index.js';
import { taskReservation, type TaskDefinitionView } from '../../scheduler/index.js';
import * as c from '../../store/collections.js';
import type { TaskDoc } from '../../store/collections.js';
import type { Row, StoreTx } from '../../store/store.js';
import { taskArn, type Scope } from './arns.js';
import type { ClusterRecord } from './clusters.js';
import type { TaskDefinitionRecord } from './task-definitions.js';
import type { PlaceInput, StartTaskInput } from './tasks.js';

/** The report sequence number last applied, kept in the task document. */
export const REPORT_SEQ_FIELD = 'agentReportSeq';

/**
 * Creates a placed task (RunTask, StartTask): PROVISIONING for awsvpc tasks, else PENDING, with
 * what it reserves on its instance (the scheduler's taskReservation, the one rule) stored with it.
 */
export async function createTask(
  tx: StoreTx,
  scope: Scope,
  cluster: ClusterRecord,
  td: TaskDefinitionRecord,
  input: Omit<PlaceInput, 'count'> | StartTaskInput,
  instanceArn: string,
  launch: { launchType: string; capacityProviderName?: string },
  now: number,
): Promise<TaskDoc> {
  const id = hexId();
  const arn = taskArn(scope, cluster.clusterName, id);
  const overrides = input.overrides ?? {};
  const reservation = taskReservation(td as unknown as TaskDefinitionView, overrides);
  const awsvpc = td.networkMode === 'awsvpc';
  const containers = td.containerDefinitions.map((ct) => {
    const o = overrides.containerOverrides?.find((x) => x.name === ct.name) ?? {};
    const memory = o.memory ?? ct.memory;
    const memoryReservation = o.memoryReservation ?? ct.memoryReservation;
    return {
      containerArn: `arn:aws:ecs:${scope.region}:${scope.accountId}:container/${cluster.clusterName}/${id}/${hexId()}`,
      taskArn: arn,
      name: ct.name,
      image: ct.image,
      lastStatus: 'PENDING',
      networkBindings: [],
      networkInterfaces: [],
      cpu: String(o.cpu ?? ct.cpu ?? 0),
      memory: memory === undefined ? undefined : String(memory),
      memoryReservation: memoryReservation === undefined ? undefined : String(memoryReservation),
      essential: ct.essential,
    };
  });
  const doc: TaskDoc = {
    accountId: scope.accountId,
    region: scope.region,
    taskArn: arn,
    clusterArn: cluster.clusterArn,
    taskDefinitionArn: td.taskDefinitionArn,
    containerInstanceArn: instanceArn,
    placedOn: instanceArn,
    lastStatus: awsvpc ? 'PROVISIONING' : 'PENDING',
    desiredStatus: 'RUNNING',
    launchType: launch.launchType,
    capacityProviderName: launch.capacityProviderName,
    platformVersion: launch.launchType === 'FARGATE' ? ('platformVersion' in input ? input.platformVersion : undefined) ?? '1.4.0' : undefined,
    platformFamily: launch.launchType === 'FARGATE' ? 'Linux' : undefined,
    ephemeralStorage: launch.launchType === 'FARGATE' ? { sizeInGiB: 20 } : undefined,
    family: td.family,
    startedBy: input.startedBy,
    group: input.group ?? `family:${td.family}`,
    containers,
    overrides: { containerOverrides: overrides.containerOverrides ?? [], inferenceAcceleratorOverrides: [], ...overrides },
    cpu: overrides.cpu ?? td.cpu ?? String(reservation.cpu),
    memory: overrides.memory ?? td.memory ?? String(reservation.memory),
    attachments: [],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    enableExecuteCommand: input.enableExecuteCommand ?? false,
    healthStatus: 'UNKNOWN',
    version: 1,
    createdAt: now,
    tags: input.tags ?? [],
    serviceName: 'serviceName' in input ? input.serviceName : undefined,
    networkConfiguration: input.networkConfiguration,
    reservedCpu: reservation.cpu,
    reservedMemory: reservation.memory,
    reservedPorts: reservation.hostPorts.filter((p) => p.hostPort > 0).map((p) => `${p.hostPort}/${p.protocol}`),
  };
  await tx.insert(c.tasks, arn, doc);
  return doc;
}

/**
 * StopTask: desiredStatus STOPPED with the user's reason, unless a stop is already under way
 * (then the task keeps the stop it has). Returns the document as it now is. `stopCode` is the
 * user's by default; a spot interruption passes SpotInterruption.
 */
export async function requestStop(tx: StoreTx, row: Row<TaskDoc>, reason: string | undefined, now: number, stopCode = 'UserInitiated'): Promise<TaskDoc> {
  if (row.data.desiredStatus === 'STOPPED') return row.data;
  const next: TaskDoc = {
    ...row.data,
    desiredStatus: 'STOPPED',
    stopCode: row.data.stopCode ?? stopCode,
    stoppedReason: row.data.stoppedReason ?? reason ?? 'Task stopped by user',
    stoppingAt: now,
    version: row.data.version + 1,
  };
  await tx.update(c.tasks, row, next);
  return next;
}

/**
 * The service scheduler has accounted for this stopped task of its service: it leaves the
 * service's open tasks (the `service_open` column). Not a change ECS shows: `version` stays.
 */
export async function markSeenByService(tx: StoreTx, row: Row<TaskDoc>): Promise<void> {
  if (row.data.serviceSeen === true) return;
  await tx.update(c.tasks, row, { ...row.data, serviceSeen: true });
}

/**
 * The service scheduler decided to stop a task behind a load balancer: it is deregistered first
 * and stops (requestStop with this reason) once its targets have drained.
 */
export async function markDeregistering(tx: StoreTx, row: Row<TaskDoc>, reason: string): Promise<void> {
  if (row.data.lbStopReason !== undefined || row.data.desiredStatus === 'STOPPED') return;
  await tx.update(c.tasks, row, { ...row.data, lbStopReason: reason });
}

/** Records an agent's report on its task; false when the report was stale or changed nothing. */
export async function recordReport(tx: StoreTx, row: Row<TaskDoc>, report: TaskReport, now: number): Promise<boolean> {
  const next = applyReport(row.data, report, now);
  if (next) await tx.update(c.tasks, row, next);
  return next !== undefined;
}

interface ContainerDoc {
  name?: string;
  lastStatus?: string;
  [k: string]: unknown;
}

const TIMESTAMPS = ['pullStartedAt', 'pullStoppedAt', 'startedAt', 'executionStoppedAt'] as const;

/** The document after an agent's report (pure), or undefined when the report is stale or changes nothing. `now` is epoch seconds. */
export function applyReport(task: TaskDoc, report: TaskReport, now: number): TaskDoc | undefined {
  const lastSeq = typeof task[REPORT_SEQ_FIELD] === 'number' ? (task[REPORT_SEQ_FIELD] as number) : -1;
  if (report.seq <= lastSeq) return undefined;
  const next = structuredClone(task);
  delete next[REPORT_SEQ_FIELD];

  if (taskStatusRank(report.lastStatus) > taskStatusRank(next.lastStatus)) next.lastStatus = report.lastStatus;
  const rank = taskStatusRank(next.lastStatus);

  next.containers = next.containers.map((existing) => {
    const c = existing as ContainerDoc;
    const r = report.containers.find((x) => x.name === c.name);
    if (!r) return c;
    const out: ContainerDoc = { ...c };
    if (containerStatusRank(r.lastStatus) > containerStatusRank(String(c.lastStatus ?? 'PENDING'))) out.lastStatus = r.lastStatus;
    if (r.runtimeId !== undefined) out.runtimeId = r.runtimeId;
    if (r.imageDigest !== undefined) out.imageDigest = r.imageDigest;
    if (r.exitCode !== undefined && out.exitCode === undefined) out.exitCode = r.exitCode;
    if (r.reason !== undefined && out.reason === undefined) out.reason = r.reason;
    if (r.networkBindings !== undefined) out.networkBindings = r.networkBindings;
    if (r.networkInterfaces !== undefined) out.networkInterfaces = r.networkInterfaces;
    if (r.healthStatus !== undefined) out.healthStatus = r.healthStatus;
    return out;
  });

  if (report.healthStatus !== undefined) next.healthStatus = report.healthStatus;
  for (const field of TIMESTAMPS) {
    if (report[field] !== undefined && next[field] === undefined) next[field] = report[field];
  }
  if (report.attachments !== undefined) next.attachments = report.attachments;
  if (rank >= taskStatusRank('PENDING') && next.connectivity === undefined) {
    next.connectivity = 'CONNECTED';
    next.connectivityAt = report.pullStartedAt ?? now;
  }
  if (report.stopCode !== undefined || rank >= taskStatusRank('STOPPING')) {
    next.desiredStatus = 'STOPPED';
    if (next.stopCode === undefined && report.stopCode !== undefined) next.stopCode = report.stopCode;
    if (next.stoppedReason === undefined && report.stoppedReason !== undefined) next.stoppedReason = report.stoppedReason;
    if (next.stoppingAt === undefined) next.stoppingAt = report.stoppingAt ?? now;
  }
  if (next.lastStatus === 'STOPPED') {
    if (next.executionStoppedAt === undefined) next.executionStoppedAt = now;
    if (next.stoppedAt === undefined) next.stoppedAt = now;
  }

  const before = { ...task };
  delete before[REPORT_SEQ_FIELD];
  if (JSON.stringify(before) === JSON.stringify(next)) return undefined;
  next.version = task.version + 1;
  next[REPORT_SEQ_FIELD] = report.seq;
  return next;
}
