/**
 * The agent's own view of a task: what it knows (per container) and what is desired, plus the
 * one mapping from that view to ECS's task and container statuses.
 *
 *   container known:  NONE ──pull──▶ PULLED ──create──▶ CREATED ──start──▶ RUNNING ──exit/stop──▶ STOPPED
 *                       └───────────────┴──────────────────┴── (task stopping: never started) ──▶ STOPPED
 *
 *   task (reported):  PROVISIONING (awsvpc, before its namespace exists) → PENDING → RUNNING
 *                     → STOPPING (desired STOPPED, containers still up) → DEPROVISIONING (awsvpc
 *                     namespace being removed) → STOPPED
 *
 * Statuses only move forward; desired status only moves RUNNING → STOPPED.
 */
import type { ContainerReport, EniAttachment, NetworkBinding, TaskAssignment, TaskReport, TaskStatus } from '../protocol/index.js';

export const KNOWN = ['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const;
export type Known = (typeof KNOWN)[number];
export const knownRank = (k: Known): number => KNOWN.indexOf(k);

export type Health = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface LocalContainer {
  name: string;
  known: Known;
  runtimeId?: string;
  /** Epoch seconds, as Docker recorded them. */
  createdAt?: number;
  /** Set when the container was started at least once (epoch seconds). */
  startedAt?: number;
  finishedAt?: number;
  /** Its address on its Docker network (bridge), for the metadata endpoint and the credentials endpoint's source check. */
  ipAddress?: string;
  exitCode?: number;
  reason?: string;
  health: Health;
  imageDigest?: string;
  networkBindings?: NetworkBinding[];
  /** Why a step failed; next-action turns it into a task stop. */
  failure?: { kind: 'pull' | 'create' | 'start'; message: string };
  /** A stop was issued; do not issue another. */
  stopIssued?: boolean;
}

export interface TaskSetupInfo {
  pauseId?: string;
  privateIp?: string;
  macAddress?: string;
  /** Ports published on the pause container (awsvpc). */
  networkBindings?: NetworkBinding[];
}

export interface LocalTask {
  arn: string;
  spec: TaskAssignment;
  desired: 'RUNNING' | 'STOPPED';
  setup: 'NONE' | 'DONE' | 'FAILED';
  setupInfo?: TaskSetupInfo;
  tornDown: boolean;
  containers: Record<string, LocalContainer>;
  stopCode?: TaskReport['stopCode'];
  stoppedReason?: string;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  /** The containers' removal is scheduled (after the cleanup delay). */
  cleanupScheduled?: boolean;
  /** GET task-secrets answered (the values themselves stay in the supervisor, never here); FAILED carries ECS's reason. */
  secrets?: 'DONE' | 'FAILED';
  secretsFailure?: string;
}

export function newLocalTask(spec: TaskAssignment): LocalTask {
  return {
    arn: spec.taskArn,
    spec,
    desired: spec.desiredStatus,
    setup: 'NONE',
    tornDown: false,
    containers: Object.fromEntries(spec.containers.map((c) => [c.name, { name: c.name, known: 'NONE', health: 'UNKNOWN' } satisfies LocalContainer])),
  };
}

export function allStopped(task: LocalTask): boolean {
  return Object.values(task.containers).every((c) => c.known === 'STOPPED');
}

/** ECS lastStatus for the task, from the agent's view. */
export function taskLastStatus(task: LocalTask): TaskStatus {
  const cs = Object.values(task.containers);
  const awsvpc = task.spec.networkMode === 'awsvpc';
  if (allStopped(task)) {
    if (task.setup === 'NONE' || task.tornDown) return 'STOPPED';
    return awsvpc ? 'DEPROVISIONING' : 'STOPPED';
  }
  if (task.desired === 'STOPPED') return task.startedAt !== undefined || cs.some((c) => c.known === 'RUNNING') ? 'STOPPING' : 'PENDING';
  if (cs.every((c) => c.known === 'RUNNING' || c.known === 'STOPPED') && cs.some((c) => c.known === 'RUNNING')) return 'RUNNING';
  if (awsvpc && task.setup === 'NONE') return 'PROVISIONING';
  return 'PENDING';
}

export function containerLastStatus(c: LocalContainer): ContainerReport['lastStatus'] {
  return c.known === 'RUNNING' ? 'RUNNING' : c.known === 'STOPPED' ? 'STOPPED' : 'PENDING';
}

/** ECS task health: over essential containers that have a health check. */
export function taskHealth(task: LocalTask): Health {
  const checked = task.spec.containers.filter((s) => s.essential && s.healthCheck).map((s) => task.containers[s.name]!);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.some((c) => c.health === 'UNHEALTHY')) return 'UNHEALTHY';
  return checked.every((c) => c.health === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

/** The agent's full known state of a task, as a protocol report (without `seq`). */
export function toReport(task: LocalTask, instanceId: string): Omit<TaskReport, 'seq'> {
  const awsvpc = task.spec.networkMode === 'awsvpc' && task.setupInfo?.privateIp;
  const eniId = `eni-${task.arn.split('/').pop()!.slice(0, 17)}`;
  const attachmentId = `${instanceId.slice(0, 8)}-${task.arn.split('/').pop()!.slice(0, 24)}`;
  const attachments: EniAttachment[] | undefined = awsvpc
    ? [
        {
          id: attachmentId,
          type: 'ElasticNetworkInterface',
          status: task.tornDown ? 'DELETED' : 'ATTACHED',
          details: [
            { name: 'subnetId', value: task.spec.subnetId ?? 'subnet-dockyard' },
            { name: 'networkInterfaceId', value: eniId },
            { name: 'macAddress', value: task.setupInfo!.macAddress ?? '' },
            { name: 'privateDnsName', value: `ip-${task.setupInfo!.privateIp!.replaceAll('.', '-')}.ec2.internal` },
            { name: 'privateIPv4Address', value: task.setupInfo!.privateIp! },
          ],
        },
      ]
    : undefined;
  return {
    taskArn: task.arn,
    lastStatus: taskLastStatus(task),
    healthStatus: taskHealth(task),
    pullStartedAt: task.pullStartedAt,
    pullStoppedAt: task.pullStoppedAt,
    startedAt: task.startedAt,
    stoppingAt: task.stoppingAt,
    executionStoppedAt: task.executionStoppedAt,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    attachments,
    containers: Object.values(task.containers).map((c) => ({
      name: c.name,
      lastStatus: containerLastStatus(c),
      runtimeId: c.runtimeId,
      imageDigest: c.imageDigest,
      exitCode: c.exitCode,
      reason: c.reason,
      networkBindings: c.networkBindings,
      networkInterfaces: awsvpc ? [{ attachmentId, privateIpv4Address: task.setupInfo!.privateIp! }] : undefined,
      healthStatus: task.spec.containers.find((s) => s.name === c.name)?.healthCheck ? c.health : undefined,
    })),
  };
}
