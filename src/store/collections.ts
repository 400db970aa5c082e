/**
 * Every collection Dockyard stores, with the columns it is queried by. The documents
 * themselves are the domain records defined by the owning service module.
 */
import { integer, text, type Collection } from './store.js';

/** Fields every regional resource document carries. */
interface Regional {
  accountId: string;
  region: string;
}

export interface ClusterDoc extends Regional {
  clusterArn: string;
  clusterName: string;
  status: string;
  [k: string]: unknown;
}
export const clusters: Collection<ClusterDoc> = {
  name: 'clusters',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.clusterName),
    status: text((d) => d.status),
  },
  // ListClusters' pages (keyset on pk).
  indexes: [['account_region', 'status', 'pk']],
};

export interface TaskDefinitionDoc extends Regional {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: string;
  [k: string]: unknown;
}
export const taskDefinitions: Collection<TaskDefinitionDoc> = {
  name: 'task_definitions',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    family: text((d) => d.family),
    revision: integer((d) => d.revision),
    status: text((d) => d.status),
  },
  // Latest revision of a family (describe, register) and ListTaskDefinitions' order.
  indexes: [
    ['account_region', 'family', 'revision'],
    ['account_region', 'status', 'family', 'revision'],
  ],
};

/**
 * A task, stored in ECS's own `Task` wire shape (so DescribeTasks is a projection) plus a few
 * internal fields. The control plane writes it at RunTask/StartTask (lastStatus PROVISIONING,
 * desiredStatus RUNNING, containerInstanceArn chosen by the scheduler) and at StopTask
 * (desiredStatus STOPPED, stopCode, stoppedReason, stoppingAt); the agent API applies the
 * agent's reports (lastStatus forward-only, containers[], timestamps, networkBindings, ...).
 * `version` is ECS's task version: it goes up on every change.
 */
export interface TaskDoc extends Regional {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  /** Shown to callers for EC2/EXTERNAL tasks only; Fargate tasks hide the host, as in ECS. */
  containerInstanceArn?: string;
  /** Internal: the container instance (agent) the scheduler placed the task on, for every launch type. */
  placedOn?: string;
  /** PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED */
  lastStatus: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
  launchType?: string;
  capacityProviderName?: string;
  family: string;
  startedBy?: string;
  group?: string;
  /** ECS `Container` shapes: containerArn, taskArn, name, image, imageDigest, runtimeId, lastStatus, exitCode, reason, networkBindings, networkInterfaces, healthStatus, cpu, memory, memoryReservation. */
  containers: Record<string, unknown>[];
  overrides: { containerOverrides?: Record<string, unknown>[]; cpu?: string; memory?: string; taskRoleArn?: string; executionRoleArn?: string; [k: string]: unknown };
  cpu?: string;
  memory?: string;
  version: number;
  createdAt: number;
  stopCode?: string;
  stoppedReason?: string;
  tags?: { key?: string; value?: string }[];
  [k: string]: unknown;
}
export const tasks: Collection<TaskDoc> = {
  name: 'tasks',
  columns: {
    cluster: text((d) => d.clusterArn),
    last_status: text((d) => d.lastStatus),
    desired_status: text((d) => d.desiredStatus),
    instance: text((d) => d.placedOn),
    family: text((d) => d.family),
    started_by: text((d) => d.startedBy),
    task_group: text((d) => d.group),
    service: text((d) => d.serviceName as string | undefined),
    // `<cluster>|<service>` while the service scheduler still has to account for the task: live, stopping,
    // or stopped but not yet seen by it (serviceSeen); the scheduler's snapshot reads this column only.
    service_open: text((d) =>
      d.serviceName !== undefined && (d.lastStatus !== 'STOPPED' || d.serviceSeen !== true) ? `${d.clusterArn}|${String(d.serviceName)}` : null,
    ),
    launch_type: text((d) => d.launchType),
    // What the task holds on its instance, for the scheduler's snapshot (see Store.select).
    reserved_cpu: integer((d) => d.reservedCpu as number | undefined),
    reserved_memory: integer((d) => d.reservedMemory as number | undefined),
    host_ports: text((d) => (d.reservedPorts as string[] | undefined)?.join(',')),
  },
  // ListTasks' pages (keyset on pk) and RunTask's snapshot of the live tasks of a cluster.
  indexes: [
    ['cluster', 'desired_status', 'pk'],
    ['cluster', 'last_status'],
  ],
};

/**
 * A container instance (one host's agent), in ECS's `ContainerInstance` wire shape plus
 * internal fields: `lastHeartbeatAt` (epoch seconds) drives `agentConnected`.
 */
export interface ContainerInstanceDoc extends Regional {
  containerInstanceArn: string;
  clusterArn: string;
  ec2InstanceId?: string;
  /** ACTIVE | DRAINING | INACTIVE (REGISTERING/DEREGISTERING are not used by Dockyard). */
  status: string;
  agentConnected: boolean;
  registeredResources: { name: string; type: string; integerValue?: number; stringSetValue?: string[] }[];
  attributes: { name: string; value?: string }[];
  lastHeartbeatAt?: number;
  [k: string]: unknown;
}
export const containerInstances: Collection<ContainerInstanceDoc> = {
  name: 'container_instances',
  columns: {
    cluster: text((d) => d.clusterArn),
    status: text((d) => d.status),
  },
  // ListContainerInstances' pages (keyset on pk).
  indexes: [['cluster', 'status', 'pk']],
};

/**
 * An ECS service (owned by services/ecs/services.ts), in ECS's `Service` wire shape plus internal
 * fields: its live deployments (PRIMARY first) with the controller's bookkeeping, the last 100
 * events (newest first), and `lastCompleted` (what a circuit-breaker rollback returns to).
 */
export interface ServiceDoc extends Regional {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: string;
  schedulingStrategy?: string;
  launchType?: string;
  [k: string]: unknown;
}
export const services: Collection<ServiceDoc> = {
  name: 'services',
  columns: {
    cluster: text((d) => d.clusterArn),
    name: text((d) => d.serviceName),
    status: text((d) => d.status),
    scheduling: text((d) => d.schedulingStrategy),
    launch_type: text((d) => d.launchType),
    namespace: text((d) => (d.serviceConnectNamespace as string | undefined) ?? null),
    // CUSTOMER, or ECS for Express Mode services (ListServices' resourceManagementType).
    management: text((d) => (d.resourceManagementType as string | undefined) ?? 'CUSTOMER'),
  },
  // ListServices' pages (keyset on pk).
  indexes: [['cluster', 'status', 'pk']],
};

/**
 * An ECS Express Mode service (owned by services/ecs-express): its configurations (newest first)
 * and the resources Express Mode made for it (task definitions, load balancer listener, rule,
 * target group, scaling target and policy). Key: the ECS service's ARN.
 */
export interface ExpressServiceDoc extends Regional {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  [k: string]: unknown;
}
export const expressServices: Collection<ExpressServiceDoc> = {
  name: 'ecs_express_services',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    cluster: text((d) => d.clusterArn),
  },
  indexes: [['account_region', 'pk']],
};

/** One service deployment (ListServiceDeployments / DescribeServiceDeployments); key: its ARN. */
export interface ServiceDeploymentDoc extends Regional {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  status: string;
  createdAt: number;
  [k: string]: unknown;
}
export const serviceDeployments: Collection<ServiceDeploymentDoc> = {
  name: 'service_deployments',
  columns: {
    service: text((d) => d.serviceArn),
    status: text((d) => d.status),
    created_at: integer((d) => Math.floor(d.createdAt * 1000)),
  },
  indexes: [['service', 'created_at']],
};

/** One service revision (DescribeServiceRevisions): what a deployment deploys; key: its ARN. */
export interface ServiceRevisionDoc extends Regional {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterArn: string;
  createdAt: number;
  [k: string]: unknown;
}
export const serviceRevisions: Collection<ServiceRevisionDoc> = {
  name: 'service_revisions',
  columns: {
    service: text((d) => d.serviceArn),
  },
};

/**
 * A task set of a service with the EXTERNAL deployment controller (owned by
 * services/ecs/task-sets.ts), in ECS's `TaskSet` wire shape plus internal fields; key: its ARN.
 * A deleted task set is DRAINING until its tasks have stopped, then its row goes.
 */
export interface TaskSetDoc extends Regional {
  taskSetArn: string;
  id: string;
  serviceArn: string;
  clusterArn: string;
  status: string;
  createdAt: number;
  [k: string]: unknown;
}
export const taskSets: Collection<TaskSetDoc> = {
  name: 'task_sets',
  columns: {
    service: text((d) => d.serviceArn),
  },
};

/**
 * A capacity provider an account created (CreateCapacityProvider); key: its ARN. FARGATE and
 * FARGATE_SPOT are built in and never stored. Deleted ones stay as INACTIVE, as ECS shows them.
 */
export interface CapacityProviderDoc extends Regional {
  capacityProviderArn: string;
  name: string;
  status: string;
  [k: string]: unknown;
}
export const capacityProviders: Collection<CapacityProviderDoc> = {
  name: 'capacity_providers',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.name),
    status: text((d) => d.status),
  },
};

export interface AccountSettingDoc extends Regional {
  principalArn: string;
  name: string;
  value: string;
}
export const accountSettings: Collection<AccountSettingDoc> = {
  name: 'account_settings',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    principal: text((d) => d.principalArn),
    name: text((d) => d.name),
  },
};

/**
 * ECR repositories (owned by services/ecr and read by the registry). The key is the ARN.
 * Policies, the lifecycle policy and its latest preview live in the document.
 */
export interface EcrRepositoryDoc extends Regional {
  repositoryArn: string;
  repositoryName: string;
  registryId: string;
  createdAt: number;
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE';
  [k: string]: unknown;
}
export const ecrRepositories: Collection<EcrRepositoryDoc> = {
  name: 'ecr_repositories',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.repositoryName),
    // 1 when the repository has a lifecycle policy: the lifecycle sweep reads only those.
    lifecycle_policy: integer((d) => (d.lifecyclePolicyText === undefined ? 0 : 1)),
  },
  // DescribeRepositories' pages (keyset on name).
  indexes: [['account_region', 'name']],
};

/** One manifest stored in one repository; key `<repositoryArn>@<digest>`. The manifest bytes are kept verbatim. */
export interface EcrImageDoc {
  repositoryArn: string;
  digest: string;
  mediaType: string;
  artifactMediaType?: string;
  artifactType?: string;
  manifest: string;
  manifestSize: number;
  /** ECR's imageSizeInBytes: the sum of the compressed layers. */
  size: number;
  pushedAt: number;
  lastRecordedPullTime?: number;
  /** Blob digests (config + layers) and child manifest digests this manifest needs. */
  blobs: string[];
  children: string[];
  subject?: string;
  annotations?: Record<string, string>;
}
export const ecrImages: Collection<EcrImageDoc> = {
  name: 'ecr_images',
  columns: {
    repo: text((d) => d.repositoryArn),
    digest: text((d) => d.digest),
    subject: text((d) => d.subject),
    pushed_at: integer((d) => Math.floor(d.pushedAt * 1000)),
  },
};

/** A tag: key `<repositoryArn>:<tag>` → the digest it names. */
export interface EcrTagDoc {
  repositoryArn: string;
  tag: string;
  digest: string;
}
export const ecrTags: Collection<EcrTagDoc> = {
  name: 'ecr_tags',
  columns: {
    repo: text((d) => d.repositoryArn),
    tag: text((d) => d.tag),
    digest: text((d) => d.digest),
  },
};

/** A blob linked into a repository (uploaded or mounted there); key `<repositoryArn>@<digest>`. */
export interface EcrLayerDoc {
  repositoryArn: string;
  digest: string;
  size: number;
  createdAt: number;
}
export const ecrLayers: Collection<EcrLayerDoc> = {
  name: 'ecr_layers',
  columns: {
    repo: text((d) => d.repositoryArn),
    digest: text((d) => d.digest),
  },
};

/**
 * IAM (owned by services/iam). IAM is global: documents carry the account, not a region.
 * Names are unique per account regardless of case, so keys and name columns use the lowercased
 * name; other records refer to users and roles by their immutable ids (AIDA…, AROA…) so that a
 * rename (UpdateUser, NewUserName) re-keys one row only.
 */
export interface IamUserDoc {
  accountId: string;
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: number;
  tags: { Key: string; Value: string }[];
  /** Inline policies: name → policy document (JSON text as submitted). */
  inlinePolicies: Record<string, string>;
  permissionsBoundary?: string;
}
export const iamUsers: Collection<IamUserDoc> = {
  name: 'iam_users',
  columns: {
    account: text((d) => d.accountId),
    user_id: text((d) => d.userId),
    path: text((d) => d.path),
  },
};

export interface IamRoleDoc {
  accountId: string;
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createDate: number;
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration: number;
  tags: { Key: string; Value: string }[];
  inlinePolicies: Record<string, string>;
  permissionsBoundary?: string;
  roleLastUsed?: { LastUsedDate: number; Region: string };
}
export const iamRoles: Collection<IamRoleDoc> = {
  name: 'iam_roles',
  columns: {
    account: text((d) => d.accountId),
    role_id: text((d) => d.roleId),
    path: text((d) => d.path),
  },
};

/** An access key; key: the access key id. The secret is sealed with the data dir's SecretBox. */
export interface IamAccessKeyDoc {
  accountId: string;
  accessKeyId: string;
  userId: string;
  status: 'Active' | 'Inactive';
  createDate: number;
  sealedSecret: string;
  lastUsed?: { date: number; region: string; service: string };
}
export const iamAccessKeys: Collection<IamAccessKeyDoc> = {
  name: 'iam_access_keys',
  columns: {
    user_id: text((d) => d.userId),
  },
};

/** A customer managed policy with its versions; key: its ARN. AWS managed policies are built in (services/iam/aws-managed.ts). */
export interface IamPolicyDoc {
  accountId: string;
  policyName: string;
  policyId: string;
  arn: string;
  path: string;
  description?: string;
  createDate: number;
  updateDate: number;
  defaultVersionId: string;
  /** The number the next CreatePolicyVersion gets (v1, v2, … never reused). */
  nextVersion: number;
  versions: { versionId: string; document: string; createDate: number }[];
  tags: { Key: string; Value: string }[];
}
export const iamPolicies: Collection<IamPolicyDoc> = {
  name: 'iam_policies',
  columns: {
    account: text((d) => d.accountId),
    name: text((d) => `${d.accountId}:${d.policyName.toLowerCase()}`),
    path: text((d) => d.path),
  },
};

export interface IamGroupDoc {
  accountId: string;
  groupName: string;
  groupId: string;
  path: string;
  arn: string;
  createDate: number;
  inlinePolicies: Record<string, string>;
}
export const iamGroups: Collection<IamGroupDoc> = {
  name: 'iam_groups',
  columns: {
    account: text((d) => d.accountId),
    group_id: text((d) => d.groupId),
  },
};

/** A user's membership in a group; key `<groupId>|<userId>`. */
export interface IamGroupMemberDoc {
  groupId: string;
  userId: string;
}
export const iamGroupMembers: Collection<IamGroupMemberDoc> = {
  name: 'iam_group_members',
  columns: {
    group_id: text((d) => d.groupId),
    user_id: text((d) => d.userId),
  },
};

/** A managed policy attached to a user, role or group; key `<principalId>|<policyArn>`. */
export interface IamAttachmentDoc {
  accountId: string;
  /** AIDA… (user), AROA… (role) or AGPA… (group). */
  principalId: string;
  policyArn: string;
  policyName: string;
}
export const iamAttachments: Collection<IamAttachmentDoc> = {
  name: 'iam_attachments',
  columns: {
    principal: text((d) => d.principalId),
    policy: text((d) => `${d.accountId}|${d.policyArn}`),
  },
};

/**
 * An STS session (AssumeRole, GetSessionToken); key: its ASIA… access key id. The secret and the
 * session token are sealed; `expiresAt` (epoch ms) lets expired sessions be swept.
 */
export interface StsSessionDoc {
  accountId: string;
  accessKeyId: string;
  sealedSecret: string;
  sealedSessionToken: string;
  expiresAt: number;
  /** Who signing with this session makes you (src/iam/principal.ts Caller). */
  caller: { kind: 'assumed-role' | 'user' | 'root'; arn: string; userId: string; roleArn?: string };
  /** AssumeRole's session policy, if one was passed (further limits the role's permissions). */
  sessionPolicy?: string;
}
export const stsSessions: Collection<StsSessionDoc> = {
  name: 'sts_sessions',
  columns: {
    expires_at: integer((d) => d.expiresAt),
  },
};

/**
 * A join token an operator created for agents (`dockyard join-token create`); key: the token id.
 * Only the SHA-256 of the token's secret is stored: the token itself is shown once, at creation.
 */
export interface AgentJoinTokenDoc {
  tokenId: string;
  secretSha256: string;
  description?: string;
  /** Epoch seconds. */
  createdAt: number;
  expiresAt?: number;
  maxUses?: number;
  uses: number;
  revokedAt?: number;
  /** Upper bounds on what an agent that joins with this token may declare. */
  limits?: AgentResourceLimits;
  /** Who created it (the caller's ARN). */
  createdBy: string;
}
export interface AgentResourceLimits {
  maxCpu?: number;
  maxMemoryMiB?: number;
}
export const agentJoinTokens: Collection<AgentJoinTokenDoc> = {
  name: 'agent_join_tokens',
  columns: {
    created_at: integer((d) => Math.floor(d.createdAt * 1000)),
  },
};

/**
 * An agent's own credential, bound to one container instance; key: the SHA-256 of the
 * credential (it is a 256-bit random secret, so a plain digest is a safe lookup key).
 */
export interface AgentCredentialDoc {
  containerInstanceArn: string;
  /** The join token it was issued for; absent for the embedded agent's in-process credential. */
  tokenId?: string;
  limits?: AgentResourceLimits;
  createdAt: number;
}
export const agentCredentials: Collection<AgentCredentialDoc> = {
  name: 'agent_credentials',
  columns: {
    instance: text((d) => d.containerInstanceArn),
  },
};

/**
 * A RunTask client token, remembered so that a retried request returns the tasks it already
 * started (ECS scopes tokens to one cluster; the ARN carries account and region). Key
 * `<clusterArn>|<token>`; `expiresAt` (epoch seconds) bounds how long it is remembered.
 */
export interface ClientTokenDoc extends Regional {
  clusterArn: string;
  token: string;
  /** sha256 of the request's parameters (without the token), to tell a retry from a reuse. */
  requestHash: string;
  taskArns: string[];
  failures: { arn?: string; reason?: string; detail?: string }[];
  expiresAt: number;
}
export const clientTokens: Collection<ClientTokenDoc> = {
  name: 'client_tokens',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    expires_at: integer((d) => Math.floor(d.expiresAt)),
  },
};

/**
 * Registry-wide ECR settings of one account and region (key `<account>:<region>`): the
 * registry policy, the replication configuration and the registry scanning configuration.
 */
export interface EcrRegistryDoc extends Regional {
  policyText?: string;
  replicationConfiguration?: { rules: unknown[] };
  scanningConfiguration?: { scanType: string; rules: unknown[] };
}
export const ecrRegistries: Collection<EcrRegistryDoc> = {
  name: 'ecr_registries',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
  },
};

/** The latest scan of one image (StartImageScan / scan on push); key `<repositoryArn>@<digest>`. */
export interface EcrImageScanDoc {
  repositoryArn: string;
  digest: string;
  status: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
  description: string;
  startedAt: number;
  completedAt?: number;
  vulnerabilitySourceUpdatedAt?: number;
  /** Packages found in the image's layers. */
  packages: { name: string; version: string; ecosystem: string; source?: string }[];
  findings: { name: string; description?: string; uri?: string; severity: string; attributes: { key: string; value?: string }[] }[];
}
export const ecrImageScans: Collection<EcrImageScanDoc> = {
  name: 'ecr_image_scans',
  columns: {
    repo: text((d) => d.repositoryArn),
  },
};

/**
 * CloudWatch alarms (owned by services/cloudwatch), in CloudWatch's MetricAlarm wire shape plus
 * the account, region and tags; key `<account>:<region>:<AlarmName>`. Metric data points are not
 * here: they live in their own SQLite file (services/cloudwatch/metric-store.ts).
 */
export interface CloudWatchAlarmDoc extends Regional {
  AlarmName: string;
  AlarmArn: string;
  StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  Namespace?: string;
  MetricName?: string;
  tags: { Key: string; Value: string }[];
  [k: string]: unknown;
}
export const cloudwatchAlarms: Collection<CloudWatchAlarmDoc> = {
  name: 'cloudwatch_alarms',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    metric: text((d) => (d.MetricName ? `${d.Namespace}|${d.MetricName}` : undefined)),
    state: text((d) => d.StateValue),
  },
  indexes: [['account_region', 'pk']],
};

/** One alarm history item; key `<alarm key>|<epoch ms, 15 digits>|<random>` (newest last). */
export interface CloudWatchAlarmHistoryDoc extends Regional {
  alarmKey: string;
  AlarmName: string;
  AlarmType: 'MetricAlarm';
  Timestamp: number;
  HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  HistorySummary: string;
  HistoryData: string;
}
export const cloudwatchAlarmHistory: Collection<CloudWatchAlarmHistoryDoc> = {
  name: 'cloudwatch_alarm_history',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    alarm: text((d) => d.alarmKey),
    item_type: text((d) => d.HistoryItemType),
  },
  indexes: [['alarm', 'pk']],
};

/**
 * Application Auto Scaling (owned by services/application-autoscaling), in its wire shapes plus
 * account, region and tags. Scalable targets: key `<account>:<region>:<namespace>|<resourceId>|<dimension>`.
 */
export interface ScalableTargetDoc extends Regional {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  MinCapacity: number;
  MaxCapacity: number;
  ScalableTargetARN: string;
  RoleARN: string;
  CreationTime: number;
  SuspendedState: { DynamicScalingInSuspended: boolean; DynamicScalingOutSuspended: boolean; ScheduledScalingSuspended: boolean };
  /** Epoch seconds of the last scaling activity (cooldowns). */
  lastScaledAt?: number;
  lastScaleDirection?: 'out' | 'in';
  tags: { Key: string; Value: string }[];
  [k: string]: unknown;
}
export const scalableTargets: Collection<ScalableTargetDoc> = {
  name: 'aas_scalable_targets',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    namespace: text((d) => d.ServiceNamespace),
    arn: text((d) => d.ScalableTargetARN),
  },
  indexes: [['account_region', 'namespace', 'pk']],
};

/** A scaling policy; key: its PolicyARN. `targetKey` is its scalable target's key. */
export interface ScalingPolicyDoc extends Regional {
  targetKey: string;
  PolicyARN: string;
  PolicyName: string;
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  PolicyType: string;
  CreationTime: number;
  /** Epoch seconds of this policy's last scaling activity (step scaling cooldown). */
  lastScaledAt?: number;
  [k: string]: unknown;
}
export const scalingPolicies: Collection<ScalingPolicyDoc> = {
  name: 'aas_scaling_policies',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    target: text((d) => d.targetKey),
    name: text((d) => `${d.targetKey}|${d.PolicyName}`),
  },
  indexes: [['account_region', 'pk']],
};

/** A scheduled action; key: its ScheduledActionARN. */
export interface ScheduledActionDoc extends Regional {
  targetKey: string;
  ScheduledActionARN: string;
  ScheduledActionName: string;
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  Schedule: string;
  CreationTime: number;
  /** Epoch seconds of the next run (absent: none left); indexed for the scheduler's sweep. */
  nextRunAt?: number;
  [k: string]: unknown;
}
export const scheduledActions: Collection<ScheduledActionDoc> = {
  name: 'aas_scheduled_actions',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    target: text((d) => d.targetKey),
    name: text((d) => `${d.targetKey}|${d.ScheduledActionName}`),
    next_run_at: integer((d) => d.nextRunAt),
  },
  indexes: [['account_region', 'pk']],
};

/** A scaling activity; key `<target key>|<epoch ms, 15 digits>|<ActivityId>`. */
export interface ScalingActivityDoc extends Regional {
  targetKey: string;
  ActivityId: string;
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  Description: string;
  Cause: string;
  StartTime: number;
  EndTime?: number;
  StatusCode: string;
  StatusMessage?: string;
  Details?: string;
  NotScaledReasons?: { Code: string; MaxCapacity?: number; MinCapacity?: number; CurrentCapacity?: number }[];
}
export const scalingActivities: Collection<ScalingActivityDoc> = {
  name: 'aas_scaling_activities',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    target: text((d) => d.targetKey),
  },
  indexes: [
    ['account_region', 'pk'],
    ['target', 'pk'],
  ],
};

/**
 * An SSM Parameter Store parameter with its versions (owned by services/ssm); key
 * `<account>:<region>:<name>`. SecureString values are sealed with the data dir's SecretBox
 * (`sealed`); String and StringList values are kept as they are (`value`).
 */
export interface SsmParameterVersion {
  version: number;
  type: 'String' | 'StringList' | 'SecureString';
  value?: string;
  sealed?: string;
  labels: string[];
  lastModifiedDate: number;
  lastModifiedUser: string;
  description?: string;
  allowedPattern?: string;
  keyId?: string;
  tier: string;
  dataType: string;
  policies?: string;
}
export interface SsmParameterDoc extends Regional {
  name: string;
  arn: string;
  /** The latest version's number (also versions[versions.length - 1].version). */
  version: number;
  versions: SsmParameterVersion[];
  tags: { Key: string; Value: string }[];
}
export const ssmParameters: Collection<SsmParameterDoc> = {
  name: 'ssm_parameters',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.name),
  },
  // DescribeParameters' and GetParametersByPath's pages (keyset on name).
  indexes: [['account_region', 'name']],
};

/**
 * A Secrets Manager secret with its versions (owned by services/secretsmanager); key: its ARN.
 * Version values are sealed with the data dir's SecretBox; nothing else here is secret.
 */
export interface SecretVersionDoc {
  versionId: string;
  /** Sealed SecretString, or sealed base64 of SecretBinary. */
  sealedString?: string;
  sealedBinary?: string;
  stages: string[];
  createdDate: number;
  lastAccessedDate?: number;
}
export interface SecretDoc extends Regional {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** Set while scheduled for deletion (epoch seconds of the request). */
  deletedDate?: number;
  /** When a deleted secret goes away for good (epoch seconds). */
  purgeAt?: number;
  versions: SecretVersionDoc[];
  tags: { Key: string; Value: string }[];
  resourcePolicy?: string;
  rotation?: {
    enabled: boolean;
    lambdaArn?: string;
    rules?: { AutomaticallyAfterDays?: number; Duration?: string; ScheduleExpression?: string };
    lastRotatedDate?: number;
    nextRotationDate?: number;
    /** A rotation in progress: the new version's id and the rotation task running it. */
    pending?: { versionId: string; taskArn: string; startedAt: number };
  };
}
export const secrets: Collection<SecretDoc> = {
  name: 'secrets',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.name),
    purge_at: integer((d) => d.purgeAt),
    // What the rotation controller looks at: a rotation in progress (1: always), else the next scheduled one.
    next_rotation: integer((d) => (d.rotation?.pending ? 1 : d.rotation?.enabled && d.deletedDate === undefined ? d.rotation.nextRotationDate : undefined)),
  },
  indexes: [['account_region', 'name']],
};

/*
 * ELBv2 (issue 10). Every document keeps AWS's names for what DescribeX returns; attributes are
 * AWS's key/value pairs as written (defaults filled at creation), tags as `{Key, Value}`.
 */
export interface ElbTag {
  Key: string;
  Value?: string;
}

/** An application load balancer; key: its ARN. */
export interface ElbLoadBalancerDoc extends Regional {
  arn: string;
  name: string;
  /** The 16 hex digits ending the ARN (listeners' and rules' ARNs repeat them). */
  id: string;
  dnsName: string;
  scheme: string;
  type: string;
  ipAddressType: string;
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
  createdTime: number;
  attributes: Record<string, string>;
  tags: ElbTag[];
}
export const elbLoadBalancers: Collection<ElbLoadBalancerDoc> = {
  name: 'elb_load_balancers',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.name),
  },
};

export interface ElbHealthCheck {
  enabled: boolean;
  protocol: string;
  port: string;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
}

/** A target group; key: its ARN. */
export interface ElbTargetGroupDoc extends Regional {
  arn: string;
  name: string;
  protocol: string;
  protocolVersion: string;
  port: number;
  vpcId: string;
  targetType: string;
  ipAddressType: string;
  healthCheck: ElbHealthCheck;
  createdTime: number;
  attributes: Record<string, string>;
  tags: ElbTag[];
}
export const elbTargetGroups: Collection<ElbTargetGroupDoc> = {
  name: 'elb_target_groups',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
    name: text((d) => d.name),
  },
};

/**
 * A registered target; key `<targetGroupArn>|<id>|<port>`. Deregistration keeps the row with
 * `drainingSince` until the data plane reports the target idle or the deregistration delay has passed.
 */
export interface ElbTargetDoc {
  targetGroupArn: string;
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: number;
  drainingSince?: number;
  /** Epoch ms after which draining ends whatever is still in flight. */
  drainDeadline?: number;
}
export const elbTargets: Collection<ElbTargetDoc> = {
  name: 'elb_targets',
  columns: {
    target_group: text((d) => d.targetGroupArn),
  },
};

/** A listener; key: its ARN. */
export interface ElbListenerDoc extends Regional {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  sslPolicy?: string;
  certificates: { CertificateArn: string }[];
  alpnPolicy?: string[];
  defaultActions: ({ Type: string } & Record<string, unknown>)[];
  attributes: Record<string, string>;
  tags: ElbTag[];
  createdTime: number;
}
export const elbListeners: Collection<ElbListenerDoc> = {
  name: 'elb_listeners',
  columns: {
    load_balancer: text((d) => d.loadBalancerArn),
    port: integer((d) => d.port),
  },
};

/** A listener rule other than the default one (which is the listener's default actions); key: its ARN. */
export interface ElbRuleDoc extends Regional {
  arn: string;
  listenerArn: string;
  loadBalancerArn: string;
  priority: number;
  conditions: Record<string, unknown>[];
  actions: ({ Type: string } & Record<string, unknown>)[];
  tags: ElbTag[];
}
export const elbRules: Collection<ElbRuleDoc> = {
  name: 'elb_rules',
  columns: {
    listener: text((d) => d.listenerArn),
    load_balancer: text((d) => d.loadBalancerArn),
    priority: integer((d) => d.priority),
  },
};

/** An ACM certificate imported with ImportCertificate; key: its ARN. The private key is sealed (SecretBox). */
export interface AcmCertificateDoc extends Regional {
  arn: string;
  domainName: string;
  subjectAlternativeNames: string[];
  certificatePem: string;
  chainPem?: string;
  sealedPrivateKey: string;
  serial: string;
  subject: string;
  issuer: string;
  notBefore: number;
  notAfter: number;
  keyAlgorithm: string;
  signatureAlgorithm: string;
  createdAt: number;
  importedAt: number;
  tags: { Key: string; Value?: string }[];
}
export const acmCertificates: Collection<AcmCertificateDoc> = {
  name: 'acm_certificates',
  columns: {
    account_region: text((d) => `${d.accountId}:${d.region}`),
  },
};
