/**
 * Agent protocol v1: the only language the control plane and a host agent share.
 * Every message is a zod schema here; docs/agent-protocol.md documents each one (a test keeps
 * the two in step). JSON over HTTP on the control plane's single port, under /agent/v1/.
 *
 * Level-triggered by design: assignments are the FULL desired state of a host, and every task
 * report is the FULL known state of a task, so a lost or repeated message heals itself.
 */
import { z } from 'zod';

/** major.minor. A control plane accepts any minor of its major; another major is refused (400). */
export const PROTOCOL_VERSION = '1.3';
export const PROTOCOL_MAJOR = 1;
export const AGENT_API_PREFIX = '/agent/v1';

/** ECS task lastStatus values, in the only order they may move. */
export const TASK_STATUSES = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** ECS container lastStatus values, in order. */
export const CONTAINER_STATUSES = ['PENDING', 'RUNNING', 'STOPPED'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

export const HealthStatus = z.enum(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);
const KeyValue = z.object({ name: z.string(), value: z.string().optional() });

export const Attribute = z.object({ name: z.string().min(1).max(128), value: z.string().max(128).optional() });

/** What a host may declare: sane bounds, so no registration can claim a machine that cannot exist. */
export const MAX_CPU_UNITS = 1024 * 1024; // 1,024 cores
export const MAX_MEMORY_MIB = 16 * 1024 * 1024; // 16 TiB
const HostPort = z.string().regex(/^([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/, 'a port number 1-65535');

export const RegisterRequest = z.object({
  protocolVersion: z.string().regex(/^\d+\.\d+$/),
  /** Stable id the agent generates once and keeps in its state dir: re-registering with it is idempotent. */
  instanceId: z.string().min(8).max(64).regex(/^[a-zA-Z0-9-]+$/),
  cluster: z.string().min(1).max(255).regex(/^[a-zA-Z0-9_-]+$/),
  hostname: z.string().max(255).optional(),
  /** CPU units (1024 per core), memory MiB, reserved TCP and UDP ports. */
  resources: z.object({
    cpu: z.number().int().nonnegative().max(MAX_CPU_UNITS),
    memory: z.number().int().nonnegative().max(MAX_MEMORY_MIB),
    ports: z.array(HostPort).max(100),
    portsUdp: z.array(HostPort).max(100),
  }),
  attributes: z.array(Attribute).max(200),
  versionInfo: z.object({ agentVersion: z.string().max(128), agentHash: z.string().max(128).optional(), dockerVersion: z.string().max(128).optional() }),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterResponse = z.object({
  protocolVersion: z.string(),
  containerInstanceArn: z.string(),
  clusterArn: z.string(),
  heartbeatIntervalMs: z.number().int().positive(),
  /** No heartbeat for this long → agentConnected=false. */
  heartbeatTtlMs: z.number().int().positive(),
  /** The instance's own credential, issued when the agent registered with a join token. */
  credential: z.string().optional(),
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

export const HeartbeatRequest = z.object({ containerInstanceArn: z.string() });
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({ status: z.string(), agentConnected: z.boolean() });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const RegistryAuth = z.object({ username: z.string(), password: z.string(), serverAddress: z.string().optional() });
export type RegistryAuth = z.infer<typeof RegistryAuth>;

export const PortMappingSpec = z.object({
  containerPort: z.number().int().min(1).max(65535),
  /** 0 or absent → a dynamic host port (bridge); host and awsvpc modes use containerPort. */
  hostPort: z.number().int().min(0).max(65535).optional(),
  protocol: z.enum(['tcp', 'udp']),
});

export const HealthCheckSpec = z.object({
  command: z.array(z.string()).min(1),
  intervalSec: z.number().int().positive(),
  timeoutSec: z.number().int().positive(),
  retries: z.number().int().positive(),
  startPeriodSec: z.number().int().nonnegative(),
});

export const DependencySpec = z.object({ containerName: z.string(), condition: z.enum(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY']) });

/** ECS linuxParameters (initProcessEnabled is its own field). Sizes in MiB. */
export const LinuxParametersSpec = z.object({
  capabilities: z.object({ add: z.array(z.string()), drop: z.array(z.string()) }),
  devices: z.array(z.object({ hostPath: z.string(), containerPath: z.string().optional(), permissions: z.array(z.enum(['read', 'write', 'mknod'])).optional() })),
  sharedMemorySize: z.number().int().positive().optional(),
  tmpfs: z.array(z.object({ containerPath: z.string(), size: z.number().int().positive(), mountOptions: z.array(z.string()).optional() })),
  maxSwap: z.number().int().nonnegative().optional(),
  swappiness: z.number().int().min(0).max(100).optional(),
});
export type LinuxParametersSpec = z.infer<typeof LinuxParametersSpec>;

export const ContainerSpec = z.object({
  name: z.string(),
  containerArn: z.string(),
  image: z.string(),
  /** Set by the control plane for registries it can mint credentials for (its own ECR). Never logged. */
  registryAuth: RegistryAuth.optional(),
  /** The definition's `secrets` references (never values): the agent fetches their values with GET task-secrets before it creates the containers. Since 1.2. */
  secrets: z.array(z.object({ name: z.string(), valueFrom: z.string() })).optional(),
  /** repositoryCredentials.credentialsParameter: a secret holding {username, password} for pulling `image`; resolved with the secrets. Since 1.2. */
  repositoryCredentialsParameter: z.string().optional(),
  essential: z.boolean(),
  command: z.array(z.string()).optional(),
  entryPoint: z.array(z.string()).optional(),
  environment: z.array(KeyValue),
  workingDirectory: z.string().optional(),
  user: z.string().optional(),
  hostname: z.string().optional(),
  extraHosts: z.array(z.object({ hostname: z.string(), ipAddress: z.string() })),
  dnsServers: z.array(z.string()),
  dnsSearchDomains: z.array(z.string()),
  links: z.array(z.string()),
  ulimits: z.array(z.object({ name: z.string(), softLimit: z.number().int(), hardLimit: z.number().int() })),
  dockerLabels: z.record(z.string(), z.string()),
  privileged: z.boolean(),
  readonlyRootFilesystem: z.boolean(),
  initProcessEnabled: z.boolean(),
  /** Absent from older control planes: the agent then maps none of them. */
  linuxParameters: LinuxParametersSpec.optional(),
  /** CPU units, hard memory MiB, soft memory MiB. */
  cpu: z.number().int().nonnegative(),
  memory: z.number().int().positive().optional(),
  memoryReservation: z.number().int().positive().optional(),
  portMappings: z.array(PortMappingSpec),
  mountPoints: z.array(z.object({ sourceVolume: z.string(), containerPath: z.string(), readOnly: z.boolean() })),
  volumesFrom: z.array(z.object({ sourceContainer: z.string(), readOnly: z.boolean() })),
  healthCheck: HealthCheckSpec.optional(),
  /** Seconds between SIGTERM and SIGKILL. */
  stopTimeoutSec: z.number().int().positive(),
  /** Seconds dependents wait for this container to reach their condition. */
  startTimeoutSec: z.number().int().positive().optional(),
  dependsOn: z.array(DependencySpec),
  /** The container definition's logConfiguration; with `awslogs` the agent ships the output (see LogEventsRequest). Since 1.2. */
  logConfiguration: z.object({ logDriver: z.string(), options: z.record(z.string(), z.string()) }).optional(),
});
export type ContainerSpec = z.infer<typeof ContainerSpec>;

export const VolumeSpec = z.object({
  name: z.string(),
  host: z.object({ sourcePath: z.string().optional() }).optional(),
  dockerVolumeConfiguration: z
    .object({
      scope: z.enum(['task', 'shared']),
      autoprovision: z.boolean(),
      driver: z.string(),
      driverOpts: z.record(z.string(), z.string()),
      labels: z.record(z.string(), z.string()),
    })
    .optional(),
});
export type VolumeSpec = z.infer<typeof VolumeSpec>;

export const TaskAssignment = z.object({
  taskArn: z.string(),
  clusterArn: z.string(),
  taskDefinitionArn: z.string(),
  family: z.string(),
  desiredStatus: z.enum(['RUNNING', 'STOPPED']),
  /** The control plane's lastStatus: tells a restarted agent a task had already started. Not part of the digest. */
  lastStatus: z.enum(TASK_STATUSES).optional(),
  launchType: z.string().optional(),
  networkMode: z.enum(['bridge', 'host', 'none', 'awsvpc']),
  /** Task-level limits: CPU units and MiB. */
  cpu: z.number().int().positive().optional(),
  memory: z.number().int().positive().optional(),
  /** awsvpc: the subnet named in networkConfiguration, echoed in the ENI attachment. */
  subnetId: z.string().optional(),
  /** The IAM role the task's containers act as (RunTask override first); its credentials come in `roleCredentials`. Since 1.1. */
  taskRoleArn: z.string().optional(),
  /** The role the agent acts as for the task (image pulls; later secrets and logs). Since 1.1. */
  executionRoleArn: z.string().optional(),
  /** The task definition's PID and IPC namespaces: `task` shares one among the task's containers. */
  pidMode: z.enum(['host', 'task']).optional(),
  ipcMode: z.enum(['host', 'task', 'none']).optional(),
  volumes: z.array(VolumeSpec),
  containers: z.array(ContainerSpec),
});
export type TaskAssignment = z.infer<typeof TaskAssignment>;

/**
 * Temporary credentials of a task's role, vended by the control plane to the one agent that
 * runs the task and served to that task's containers by the agent's credentials endpoint.
 * Secret: never logged, never shown by the ECS API. Since 1.1.
 */
export const RoleCredentials = z.object({
  taskArn: z.string(),
  /** ECS's names: `TaskApplication` is the task role. */
  roleType: z.enum(['TaskApplication', 'TaskExecution']),
  roleArn: z.string(),
  accessKeyId: z.string(),
  secretAccessKey: z.string(),
  sessionToken: z.string(),
  /** ISO 8601; the control plane sends fresh credentials well before this. */
  expiration: z.string(),
});
export type RoleCredentials = z.infer<typeof RoleCredentials>;

export const AssignmentsResponse = z.object({
  /** Pass back as `index` to wait for the next change. */
  index: z.number().int().nonnegative(),
  /** Digest of `tasks`: the server holds the poll while it is unchanged. Pass back as `digest`. */
  digest: z.string(),
  containerInstanceArn: z.string(),
  instanceStatus: z.string(),
  tasks: z.array(TaskAssignment),
  /** Current credentials for the tasks above that have a role (not part of `digest`). Since 1.1. */
  roleCredentials: z.array(RoleCredentials).optional(),
});
export type AssignmentsResponse = z.infer<typeof AssignmentsResponse>;

/**
 * GET task-secrets: the resolved values of one task's container `secrets` and private registry
 * credentials, for the agent the task is placed on only, read as the task's execution role.
 * Never logged, never stored by the agent. `failure` is ECS's stopped reason when they cannot
 * be read (the agent stops the task with it). Since 1.2.
 */
export const TaskSecretsResponse = z.object({
  taskArn: z.string(),
  containers: z.array(
    z.object({
      name: z.string(),
      environment: z.array(z.object({ name: z.string(), value: z.string() })),
      registryAuth: RegistryAuth.optional(),
    }),
  ),
  failure: z.string().optional(),
});
export type TaskSecretsResponse = z.infer<typeof TaskSecretsResponse>;

export const NetworkBinding = z.object({
  bindIP: z.string(),
  containerPort: z.number().int(),
  hostPort: z.number().int(),
  protocol: z.enum(['tcp', 'udp']),
});
export type NetworkBinding = z.infer<typeof NetworkBinding>;

export const ContainerReport = z.object({
  name: z.string(),
  lastStatus: z.enum(CONTAINER_STATUSES),
  runtimeId: z.string().optional(),
  imageDigest: z.string().optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  networkBindings: z.array(NetworkBinding).optional(),
  networkInterfaces: z.array(z.object({ attachmentId: z.string().optional(), privateIpv4Address: z.string().optional() })).optional(),
  healthStatus: HealthStatus.optional(),
});
export type ContainerReport = z.infer<typeof ContainerReport>;

export const EniAttachment = z.object({
  id: z.string(),
  type: z.literal('ElasticNetworkInterface'),
  status: z.enum(['PRECREATED', 'ATTACHING', 'ATTACHED', 'DETACHING', 'DETACHED', 'DELETED']),
  details: z.array(z.object({ name: z.string(), value: z.string() })),
});
export type EniAttachment = z.infer<typeof EniAttachment>;

/** The agent's full known state of one task. Timestamps are epoch seconds. */
export const TaskReport = z.object({
  taskArn: z.string(),
  /** Increases with every report the agent makes for this task; older ones are ignored. */
  seq: z.number().int().nonnegative(),
  lastStatus: z.enum(TASK_STATUSES),
  healthStatus: HealthStatus.optional(),
  pullStartedAt: z.number().optional(),
  pullStoppedAt: z.number().optional(),
  startedAt: z.number().optional(),
  stoppingAt: z.number().optional(),
  executionStoppedAt: z.number().optional(),
  stopCode: z.enum(['TaskFailedToStart', 'EssentialContainerExited', 'UserInitiated', 'ServiceSchedulerInitiated', 'SpotInterruption', 'TerminationNotice']).optional(),
  stoppedReason: z.string().optional(),
  attachments: z.array(EniAttachment).optional(),
  containers: z.array(ContainerReport),
});
export type TaskReport = z.infer<typeof TaskReport>;

export const ReportsRequest = z.object({ containerInstanceArn: z.string(), reports: z.array(TaskReport).max(500) });
export type ReportsRequest = z.infer<typeof ReportsRequest>;

export const ReportsResponse = z.object({
  /** Task ARNs whose report was applied or already reflected (safe to drop from the outbox). */
  acknowledged: z.array(z.string()),
  /** Task ARNs the control plane does not know or that are not on this instance (also dropped). */
  unknown: z.array(z.string()),
});
export type ReportsResponse = z.infer<typeof ReportsResponse>;

/**
 * Which awslogs container a log call is about. The control plane derives the log group and
 * stream from the task definition (never from the agent), for tasks placed on the caller's instance. Since 1.2.
 */
const LogContainerRef = {
  containerInstanceArn: z.string(),
  taskArn: z.string(),
  container: z.string().max(255),
  /** Docker's container id: the stream name when the definition has no awslogs-stream-prefix (ECS on EC2). */
  runtimeId: z.string().regex(/^[0-9a-f]{12,64}$/),
};

/** Where a line stands in a container's output: `<ns since the epoch>.<index among that ns's lines>`. */
const LogCursor = z.string().max(40).regex(/^\d{1,30}\.\d{1,9}$/);

export const LogStreamRequest = z.object(LogContainerRef);
export type LogStreamRequest = z.infer<typeof LogStreamRequest>;

export const LogStreamResponse = z.object({
  logGroupName: z.string(),
  logStreamName: z.string(),
  /** Where the last accepted batch of this container ended; absent before the first. */
  cursor: z.string().optional(),
});
export type LogStreamResponse = z.infer<typeof LogStreamResponse>;

/** At most 10,000 events and 1 MiB of messages, as PutLogEvents. */
export const LogEventsRequest = z.object({
  ...LogContainerRef,
  events: z.array(z.object({ timestamp: z.number().int().nonnegative(), message: z.string().max(262_144), cursor: LogCursor })).min(1).max(10_000),
});
export type LogEventsRequest = z.infer<typeof LogEventsRequest>;

export const LogEventsResponse = z.object({
  /** Events stored by this call (the others were stored by an earlier call with the same lines). */
  accepted: z.number().int().nonnegative(),
  cursor: z.string().optional(),
});
export type LogEventsResponse = z.infer<typeof LogEventsResponse>;

/** At most this many task samples in one task-stats call. */
export const MAX_STATS_SAMPLES = 1000;

/**
 * One task's resource use over one sampling interval, summed over its containers (pause
 * containers excluded). Since 1.3.
 */
export const TaskStatsSample = z.object({
  taskArn: z.string().max(1600),
  /** Epoch seconds of the sample. */
  timestamp: z.number().nonnegative(),
  /** CPU units in use (1024 per core), averaged over the interval. */
  cpuUnits: z.number().nonnegative().max(MAX_CPU_UNITS),
  /** Memory in use, MiB, as `docker stats` counts it (usage minus inactive file cache). */
  memoryMiB: z.number().nonnegative().max(MAX_MEMORY_MIB),
  /** Bytes received and sent, and read from and written to block devices, during the interval. */
  networkRxBytes: z.number().nonnegative(),
  networkTxBytes: z.number().nonnegative(),
  storageReadBytes: z.number().nonnegative(),
  storageWriteBytes: z.number().nonnegative(),
  /** Length of the interval the deltas above cover, seconds. */
  intervalSec: z.number().positive().max(3600),
});
export type TaskStatsSample = z.infer<typeof TaskStatsSample>;

/** POST task-stats: a batch of samples of tasks placed on the caller's instance. Since 1.3. */
export const TaskStatsRequest = z.object({ containerInstanceArn: z.string(), samples: z.array(TaskStatsSample).max(MAX_STATS_SAMPLES) });
export type TaskStatsRequest = z.infer<typeof TaskStatsRequest>;

export const TaskStatsResponse = z.object({
  /** Samples recorded. */
  accepted: z.number().int().nonnegative(),
  /** Task ARNs not placed on the caller's instance (or unknown, or stopped): their samples were dropped. */
  rejected: z.array(z.string()),
});
export type TaskStatsResponse = z.infer<typeof TaskStatsResponse>;

export const ErrorResponse = z.object({
  error: z.enum(['BadRequest', 'Unauthorized', 'AccessDenied', 'UnsupportedProtocolVersion', 'UnknownInstance', 'InstanceInactive', 'ClusterNotFound', 'UnknownTask', 'ResourceNotFound']),
  message: z.string(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** Every message schema, by name: what docs/agent-protocol.md must describe. */
export const protocolSchemas = {
  RegisterRequest,
  RegisterResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  AssignmentsResponse,
  TaskAssignment,
  ContainerSpec,
  VolumeSpec,
  RegistryAuth,
  RoleCredentials,
  TaskSecretsResponse,
  TaskReport,
  ContainerReport,
  NetworkBinding,
  EniAttachment,
  ReportsRequest,
  ReportsResponse,
  LogStreamRequest,
  LogStreamResponse,
  LogEventsRequest,
  LogEventsResponse,
  TaskStatsRequest,
  TaskStatsSample,
  TaskStatsResponse,
  ErrorResponse,
} as const;

/** '1.3' → 1; undefined for a malformed version. */
export function majorOf(version: string): number | undefined {
  const m = /^(\d+)\.\d+$/.exec(version);
  return m ? Number(m[1]) : undefined;
}

export const taskStatusRank = (s: string): number => TASK_STATUSES.indexOf(s as TaskStatus);
export const containerStatusRank = (s: string): number => CONTAINER_STATUSES.indexOf(s as ContainerStatus);

/** Whether a task needs GET task-secrets before its containers are created. */
export function needsSecrets(a: Pick<TaskAssignment, 'containers'>): boolean {
  return a.containers.some((c) => (c.secrets?.length ?? 0) > 0 || c.repositoryCredentialsParameter !== undefined);
}
