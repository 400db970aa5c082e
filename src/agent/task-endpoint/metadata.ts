/**
 * Task metadata endpoint v4 response shapes, as the ECS container agent writes them
 * (ecs-agent/tmds/handlers/v2/response.go and v4/state/response.go): PascalCase fields, Go's
 * `omitempty` mirrored by leaving fields out, timestamps as RFC 3339 strings. PURE: built from
 * the agent's own view of the task (LocalTask), nothing is read here.
 */
import type { LocalContainer, LocalTask } from '../task-state.js';
import { taskLastStatus } from '../task-state.js';
import { LABELS } from '../runtime/runtime.js';
import { containerName } from '../runtime/docker.js';

export interface V4Port {
  ContainerPort: number;
  Protocol: string;
  HostPort: number;
  HostIp?: string;
}

export interface V4Network {
  NetworkMode: string;
  IPv4Addresses?: string[];
  // awsvpc only (NetworkInterfaceProperties)
  AttachmentIndex?: number;
  MACAddress?: string;
  PrivateDNSName?: string;
}

export interface V4Container {
  DockerId: string;
  Name: string;
  DockerName: string;
  Image: string;
  ImageID: string;
  Ports?: V4Port[];
  Labels?: Record<string, string>;
  DesiredStatus: string;
  KnownStatus: string;
  ExitCode?: number;
  Limits: { CPU?: number; Memory?: number };
  CreatedAt?: string;
  StartedAt?: string;
  FinishedAt?: string;
  Type: string;
  Health?: { status?: string; statusSince?: string };
  ContainerARN?: string;
  Networks?: V4Network[];
}

export interface V4ClockDrift {
  ClockErrorBound?: number;
  ReferenceTimestamp?: string;
  ClockSynchronizationStatus?: 'SYNCHRONIZED' | 'NOT_SYNCHRONIZED';
}

export interface V4Task {
  Cluster: string;
  TaskARN: string;
  Family: string;
  Revision: string;
  DesiredStatus?: string;
  KnownStatus: string;
  Containers?: V4Container[];
  Limits?: { CPU?: number; Memory?: number };
  PullStartedAt?: string;
  PullStoppedAt?: string;
  ExecutionStoppedAt?: string;
  AvailabilityZone?: string;
  LaunchType?: string;
  ClockDrift?: V4ClockDrift;
  FaultInjectionEnabled: boolean;
}

/** What the shapes need besides the task itself. */
export interface MetadataContext {
  availabilityZone?: string;
  clockDrift?: V4ClockDrift;
}

/** The ECS agent passes at least 2 CPU units to Docker and reports that (agent ≥ 1.2.0). */
const MIN_CPU_UNITS = 2;

const rfc3339 = (epochSeconds: number | undefined): string | undefined =>
  epochSeconds === undefined ? undefined : new Date(epochSeconds * 1000).toISOString();

/** Drops undefined fields, so the JSON has Go's omitempty shape. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The task definition revision, from `…:task-definition/family:7`. */
export function revisionOf(taskDefinitionArn: string): string {
  return taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf(':') + 1);
}

/** The ECS agent's task KnownStatus (NONE … RUNNING, STOPPED), from the statuses Dockyard reports. */
function taskKnownStatus(task: LocalTask): string {
  const status = taskLastStatus(task);
  if (status === 'STOPPED' || status === 'DEPROVISIONING') return 'STOPPED';
  if (status === 'RUNNING' || status === 'STOPPING' || status === 'ACTIVATING' || status === 'DEACTIVATING') return 'RUNNING';
  const known = Object.values(task.containers).map((c) => c.known);
  if (known.length && known.every((k) => k === 'CREATED' || k === 'RUNNING' || k === 'STOPPED')) return 'CREATED';
  if (known.length && known.every((k) => k !== 'NONE')) return 'PULLED';
  return 'NONE';
}

function networksOf(task: LocalTask, c: LocalContainer): V4Network[] | undefined {
  const mode = task.spec.networkMode;
  if (mode === 'awsvpc') {
    const ip = task.setupInfo?.privateIp;
    if (!ip) return undefined;
    return [
      compact({
        NetworkMode: 'awsvpc',
        IPv4Addresses: [ip],
        AttachmentIndex: 0,
        MACAddress: task.setupInfo?.macAddress,
        PrivateDNSName: `ip-${ip.replaceAll('.', '-')}.ec2.internal`,
      }),
    ];
  }
  if (!c.runtimeId) return undefined;
  // As the ECS agent reads Docker's NetworkSettings: the network's name, and its address ('' in host mode).
  return [{ NetworkMode: mode === 'bridge' ? 'bridge' : mode, IPv4Addresses: [c.ipAddress ?? ''] }];
}

export function containerMetadata(task: LocalTask, name: string): V4Container {
  const c = task.containers[name]!;
  const spec = task.spec.containers.find((s) => s.name === name)!;
  const awsvpc = task.spec.networkMode === 'awsvpc';
  const ports = (c.networkBindings ?? []).map((b) => ({ ContainerPort: b.containerPort, Protocol: b.protocol, HostPort: awsvpc ? b.containerPort : b.hostPort, HostIp: b.bindIP }));
  return compact({
    DockerId: c.runtimeId ?? '',
    Name: name,
    DockerName: containerName(task.arn, name),
    Image: spec.image,
    ImageID: c.imageDigest ?? '',
    Ports: ports.length ? ports : undefined,
    Labels: {
      ...spec.dockerLabels,
      [LABELS.cluster]: task.spec.clusterArn,
      [LABELS.containerName]: name,
      [LABELS.taskArn]: task.arn,
      [LABELS.family]: task.spec.family,
      'com.amazonaws.ecs.task-definition-version': revisionOf(task.spec.taskDefinitionArn),
    },
    DesiredStatus: task.desired,
    KnownStatus: c.known,
    ExitCode: c.exitCode,
    Limits: { CPU: Math.max(MIN_CPU_UNITS, spec.cpu), Memory: spec.memory ?? 0 },
    CreatedAt: rfc3339(c.createdAt),
    StartedAt: rfc3339(c.startedAt),
    FinishedAt: rfc3339(c.finishedAt),
    Type: 'NORMAL',
    // ECS reports health only for containers with a health check; UNKNOWN is left out.
    Health: spec.healthCheck ? compact({ status: c.health === 'UNKNOWN' ? undefined : c.health }) : undefined,
    ContainerARN: spec.containerArn || undefined,
    Networks: networksOf(task, c),
  });
}

export function taskMetadata(task: LocalTask, ctx: MetadataContext): V4Task {
  const { cpu, memory } = task.spec;
  return compact({
    Cluster: task.spec.clusterArn,
    TaskARN: task.arn,
    Family: task.spec.family,
    Revision: revisionOf(task.spec.taskDefinitionArn),
    DesiredStatus: task.desired,
    KnownStatus: taskKnownStatus(task),
    Containers: task.spec.containers.map((s) => containerMetadata(task, s.name)),
    // Task-level CPU in vCPUs, memory in MiB; left out when the task sets neither.
    Limits: cpu || memory ? compact({ CPU: cpu ? cpu / 1024 : undefined, Memory: memory }) : undefined,
    PullStartedAt: rfc3339(task.pullStartedAt),
    PullStoppedAt: rfc3339(task.pullStoppedAt),
    ExecutionStoppedAt: rfc3339(task.executionStoppedAt),
    AvailabilityZone: ctx.availabilityZone,
    LaunchType: task.spec.launchType,
    ClockDrift: ctx.clockDrift,
    FaultInjectionEnabled: false,
  });
}

/** ECS's `network_rate_stats`, from two Docker stats samples of one container. */
export function networkRates(
  prev: { readAt: number; rx: number; tx: number } | undefined,
  next: { readAt: number; rx: number; tx: number },
): { rx_bytes_per_sec: number; tx_bytes_per_sec: number } | undefined {
  if (!prev) return undefined;
  const seconds = (next.readAt - prev.readAt) / 1000;
  if (seconds <= 0) return undefined;
  return { rx_bytes_per_sec: Math.max(0, (next.rx - prev.rx) / seconds), tx_bytes_per_sec: Math.max(0, (next.tx - prev.tx) / seconds) };
}
