/**
 * What each ECS, ECR, IAM and STS operation asks IAM, as data: the action, the resources and the
 * condition keys, after the AWS Service Authorization Reference. The authorizer
 * (src/iam/operation-authorizer.ts) interprets these tables against the validated input.
 *
 * Per service:
 *   members     input member → resource type, used to turn a member's value into an ARN.
 *   primary     for operations without an entry: the first of these members the operation's
 *               model input declares names its resource (so every modeled operation is covered);
 *               none → '*'.
 *   conditions  input member → condition key, for every operation whose input has the member
 *               (ecs:cluster from `cluster`, iam:PolicyARN from `PolicyArn`, …).
 *   operations  the exceptions: `resources` lists member paths (`a.b`, `list[]`, `list[].field`)
 *               whose values are the resources; `fallback` is the resource (a `type/name` under
 *               the service's ARN prefix, or '*') when none of them has a value; `action: null`
 *               means the operation needs no permission (sts:GetCallerIdentity); `passRole` lists
 *               members naming IAM roles handed to ECS tasks (checked as iam:PassRole with
 *               iam:PassedToService = ecs-tasks.amazonaws.com); `taskDefinitionRoles` also checks
 *               the roles of the task definition the operation runs.
 */

export type ResourceType =
  | 'arn'
  | 'ecs:cluster'
  | 'ecs:task-definition'
  | 'ecs:task'
  | 'ecs:container-instance'
  | 'ecs:service'
  | 'ecs:capacity-provider'
  | 'ecs:task-set'
  | 'ecs:daemon'
  | 'ecr:repository'
  | 'iam:user'
  | 'iam:role'
  | 'iam:group'
  | 'iam:instance-profile'
  | 'iam:server-certificate'
  | 'iam:mfa'
  | 'iam:policy-name'
  | 'ssm:parameter'
  | 'secretsmanager:secret'
  | 'logs:log-group'
  | 'logs:log-stream';

export interface OperationEntry {
  /** The IAM action, when not `<prefix>:<Operation>`; null: not authorized by IAM at all. */
  readonly action?: string | null;
  /** Member paths naming the resources; each value must be allowed. */
  readonly resources?: readonly string[];
  readonly fallback?: string;
  /** Extra condition keys: key → member path. */
  readonly conditions?: Readonly<Record<string, string>>;
  readonly passRole?: readonly string[];
  readonly taskDefinitionRoles?: string;
}

export interface ServiceTable {
  /** IAM service prefix (ecs, ecr, iam, sts). */
  readonly prefix: string;
  readonly members: Readonly<Record<string, ResourceType>>;
  readonly primary: readonly string[];
  readonly conditions: Readonly<Record<string, string>>;
  readonly operations: Readonly<Record<string, OperationEntry>>;
}

const ECS_TASKS = ['taskRoleArn', 'executionRoleArn'];

export const ECS_TABLE: ServiceTable = {
  prefix: 'ecs',
  members: {
    cluster: 'ecs:cluster',
    clusters: 'ecs:cluster',
    clusterName: 'ecs:cluster',
    taskDefinition: 'ecs:task-definition',
    taskDefinitions: 'ecs:task-definition',
    task: 'ecs:task',
    tasks: 'ecs:task',
    containerInstance: 'ecs:container-instance',
    containerInstances: 'ecs:container-instance',
    targetId: 'ecs:container-instance',
    service: 'ecs:service',
    services: 'ecs:service',
    serviceName: 'ecs:service',
    capacityProvider: 'ecs:capacity-provider',
    capacityProviders: 'ecs:capacity-provider',
    name: 'ecs:capacity-provider',
    taskSet: 'ecs:task-set',
    taskSets: 'ecs:task-set',
    daemonName: 'ecs:daemon',
    daemonArn: 'arn',
    serviceArn: 'arn',
    resourceArn: 'arn',
    serviceDeploymentArn: 'arn',
    serviceDeploymentArns: 'arn',
    serviceRevisionArns: 'arn',
    capacityProviderArns: 'arn',
  },
  primary: ['resourceArn', 'taskSet', 'service', 'services', 'serviceArn', 'daemonArn', 'task', 'tasks', 'containerInstance', 'containerInstances', 'capacityProvider', 'cluster'],
  conditions: { cluster: 'ecs:cluster' },
  operations: {
    // Clusters
    CreateCluster: { resources: ['clusterName'], fallback: 'cluster/default' },
    DescribeClusters: { resources: ['clusters[]'], fallback: 'cluster/default' },
    ListClusters: {},
    // Task definitions: no resource-level permissions for register / list / describe.
    RegisterTaskDefinition: { passRole: ECS_TASKS },
    DescribeTaskDefinition: {},
    ListTaskDefinitions: {},
    ListTaskDefinitionFamilies: {},
    DeregisterTaskDefinition: { resources: ['taskDefinition'] },
    DeleteTaskDefinitions: { resources: ['taskDefinitions[]'] },
    // Tasks: RunTask / StartTask authorize on the task definition, the cluster is ecs:cluster.
    RunTask: {
      resources: ['taskDefinition'],
      conditions: { 'ecs:task-definition': 'taskDefinition' },
      passRole: ['overrides.taskRoleArn', 'overrides.executionRoleArn'],
      taskDefinitionRoles: 'taskDefinition',
    },
    StartTask: {
      resources: ['taskDefinition'],
      conditions: { 'ecs:task-definition': 'taskDefinition', 'ecs:container-instances': 'containerInstances[]' },
      passRole: ['overrides.taskRoleArn', 'overrides.executionRoleArn'],
      taskDefinitionRoles: 'taskDefinition',
    },
    StopTask: { resources: ['task'] },
    DescribeTasks: { resources: ['tasks[]'] },
    ListTasks: { resources: ['containerInstance'] },
    ExecuteCommand: { resources: ['task', 'cluster'] },
    GetTaskProtection: { resources: ['tasks[]'] },
    UpdateTaskProtection: { resources: ['tasks[]'] },
    // Container instances and the agent
    RegisterContainerInstance: { resources: ['cluster'] },
    DeregisterContainerInstance: { resources: ['cluster'] },
    ListContainerInstances: { resources: ['cluster'] },
    DescribeContainerInstances: { resources: ['containerInstances[]'] },
    UpdateContainerInstancesState: { resources: ['containerInstances[]'] },
    PutAttributes: { resources: ['attributes[].targetId'], fallback: 'cluster/default' },
    DeleteAttributes: { resources: ['attributes[].targetId'], fallback: 'cluster/default' },
    ListAttributes: { resources: ['cluster'] },
    DiscoverPollEndpoint: {},
    // Account settings and capacity providers
    PutAccountSetting: {},
    PutAccountSettingDefault: {},
    DeleteAccountSetting: {},
    ListAccountSettings: {},
    CreateCapacityProvider: { resources: ['name'] },
    DescribeCapacityProviders: { resources: ['capacityProviders[]'] },
    UpdateCapacityProvider: { resources: ['name'] },
    // Services
    CreateService: { resources: ['serviceName'], conditions: { 'ecs:task-definition': 'taskDefinition' } },
    UpdateService: { resources: ['service'], conditions: { 'ecs:task-definition': 'taskDefinition' } },
    ListServices: { resources: ['cluster'], fallback: 'cluster/default' },
    ListServicesByNamespace: {},
    // Express Mode: the service, and the task roles it hands to ECS (Describe / Delete: serviceArn, the primary member).
    CreateExpressGatewayService: { resources: ['serviceName'], passRole: ECS_TASKS },
    UpdateExpressGatewayService: { resources: ['serviceArn'], passRole: ECS_TASKS },
    CreateDaemon: { resources: ['daemonName'] },
    ListDaemons: {},
    // Tagging: aws:RequestTag / aws:TagKeys come from `tags` / `tagKeys` (see tagsFromInput).
    TagResource: { resources: ['resourceArn'] },
    UntagResource: { resources: ['resourceArn'] },
    ListTagsForResource: { resources: ['resourceArn'] },
  },
};

export const ECR_TABLE: ServiceTable = {
  prefix: 'ecr',
  members: { repositoryName: 'ecr:repository', repositoryNames: 'ecr:repository', resourceArn: 'arn' },
  primary: ['repositoryName', 'resourceArn'],
  conditions: {},
  operations: {
    GetAuthorizationToken: {},
    DescribeRepositories: { resources: ['repositoryNames[]'], fallback: 'repository/*' },
    DescribeRegistry: {},
    GetRegistryPolicy: {},
    PutRegistryPolicy: {},
    DeleteRegistryPolicy: {},
    GetRegistryScanningConfiguration: {},
    PutRegistryScanningConfiguration: {},
    PutReplicationConfiguration: {},
    BatchGetRepositoryScanningConfiguration: { resources: ['repositoryNames[]'], fallback: 'repository/*' },
    CreateRepositoryCreationTemplate: {},
    UpdateRepositoryCreationTemplate: {},
    DeleteRepositoryCreationTemplate: {},
    DescribeRepositoryCreationTemplates: {},
    CreatePullThroughCacheRule: {},
    UpdatePullThroughCacheRule: {},
    DeletePullThroughCacheRule: {},
    DescribePullThroughCacheRules: {},
    ValidatePullThroughCacheRule: {},
    GetAccountSetting: {},
    PutAccountSetting: {},
    GetSigningConfiguration: {},
    PutSigningConfiguration: {},
    DeleteSigningConfiguration: {},
    RegisterPullTimeUpdateExclusion: {},
    DeregisterPullTimeUpdateExclusion: {},
    ListPullTimeUpdateExclusions: {},
  },
};

export const IAM_TABLE: ServiceTable = {
  prefix: 'iam',
  members: {
    UserName: 'iam:user',
    RoleName: 'iam:role',
    GroupName: 'iam:group',
    InstanceProfileName: 'iam:instance-profile',
    ServerCertificateName: 'iam:server-certificate',
    VirtualMFADeviceName: 'iam:mfa',
    SerialNumber: 'arn',
    PolicyArn: 'arn',
    PolicyName: 'iam:policy-name',
    OpenIDConnectProviderArn: 'arn',
    SAMLProviderArn: 'arn',
    Arn: 'arn',
    PolicySourceArn: 'arn',
    EntityArn: 'arn',
  },
  // A user, role or group named in the request is the resource (AttachUserPolicy acts on the
  // user; the policy is the iam:PolicyARN condition key). A user-scoped operation without
  // UserName acts on the calling user.
  primary: ['UserName', 'RoleName', 'GroupName', 'InstanceProfileName', 'PolicyArn', 'OpenIDConnectProviderArn', 'SAMLProviderArn', 'ServerCertificateName', 'SerialNumber', 'VirtualMFADeviceName', 'PolicySourceArn', 'Arn'],
  conditions: { PolicyArn: 'iam:PolicyARN', PermissionsBoundary: 'iam:PermissionsBoundary' },
  operations: {
    CreatePolicy: { resources: ['PolicyName'] },
    ListPolicies: {},
    ListUsers: {},
    ListRoles: {},
    ListGroups: {},
    ListInstanceProfiles: {},
    ListOpenIDConnectProviders: {},
    ListSAMLProviders: {},
    ListServerCertificates: {},
    ListVirtualMFADevices: {},
    ListAccountAliases: {},
    CreateAccountAlias: {},
    DeleteAccountAlias: {},
    GetAccountSummary: {},
    GetAccountPasswordPolicy: {},
    UpdateAccountPasswordPolicy: {},
    DeleteAccountPasswordPolicy: {},
    GetAccountAuthorizationDetails: {},
    GenerateCredentialReport: {},
    GetCredentialReport: {},
    GetContextKeysForCustomPolicy: {},
    SimulateCustomPolicy: {},
    CreateServiceLinkedRole: {},
    // The access key's owner: the named user, else the caller (see the iam:user resource type).
    GetAccessKeyLastUsed: {},
  },
};

export const STS_TABLE: ServiceTable = {
  prefix: 'sts',
  members: { RoleArn: 'arn', UserName: 'iam:user' },
  primary: ['RoleArn'],
  conditions: {},
  operations: {
    AssumeRole: { resources: ['RoleArn'] },
    // "No permissions are required to perform this operation" (STS API reference), even under
    // an explicit deny; web identity and SAML calls are authenticated by their token instead.
    GetCallerIdentity: { action: null },
    GetSessionToken: { action: null },
    AssumeRoleWithSAML: { action: null },
    AssumeRoleWithWebIdentity: { action: null },
    GetFederationToken: { resources: ['UserName'] },
    DecodeAuthorizationMessage: {},
    GetAccessKeyInfo: {},
  },
};

/** CloudWatch Logs: operations on a group act on `log-group:NAME`; on events, on the stream (`log-group:NAME:log-stream:S`). */
export const LOGS_TABLE: ServiceTable = {
  prefix: 'logs',
  members: { logGroupName: 'logs:log-group', logGroupIdentifier: 'logs:log-group', logGroupIdentifiers: 'logs:log-group', logStreamName: 'logs:log-stream', resourceArn: 'arn' },
  primary: ['logGroupName', 'logGroupIdentifier', 'resourceArn'],
  conditions: {},
  operations: {
    PutLogEvents: { resources: ['logStreamName'] },
    GetLogEvents: { resources: ['logStreamName'] },
    StartLiveTail: { resources: ['logGroupIdentifiers[]'] },
    DescribeLogGroups: {},
  },
};

/** Parameter Store: parameters by name (`parameter/<name>`); DescribeParameters has no resource ('*'). */
export const SSM_TABLE: ServiceTable = {
  prefix: 'ssm',
  members: { Name: 'ssm:parameter', Names: 'ssm:parameter', ResourceId: 'ssm:parameter', Path: 'ssm:parameter' },
  primary: ['Name', 'Names', 'ResourceId', 'Path'],
  conditions: {},
  operations: {},
};

/** Secrets Manager: secrets by their full ARN (with the random suffix); ListSecrets and GetRandomPassword on '*'. */
export const SECRETS_MANAGER_TABLE: ServiceTable = {
  prefix: 'secretsmanager',
  members: { SecretId: 'secretsmanager:secret', SecretIdList: 'secretsmanager:secret', Name: 'secretsmanager:secret' },
  primary: ['SecretId', 'SecretIdList', 'Name'],
  conditions: {},
  operations: {},
};

/** CloudWatch signs as `monitoring` but its IAM actions are `cloudwatch:*`; alarms are named by ARN when tagged. */
export const CLOUDWATCH_TABLE: ServiceTable = {
  prefix: 'cloudwatch',
  members: { ResourceARN: 'arn' },
  primary: ['ResourceARN'],
  conditions: {},
  operations: {},
};

/** By signing name of the service module. */
export const AUTHORIZATION_TABLES: Readonly<Record<string, ServiceTable>> = {
  ecs: ECS_TABLE,
  ecr: ECR_TABLE,
  iam: IAM_TABLE,
  sts: STS_TABLE,
  ssm: SSM_TABLE,
  secretsmanager: SECRETS_MANAGER_TABLE,
  logs: LOGS_TABLE,
  monitoring: CLOUDWATCH_TABLE,
};
